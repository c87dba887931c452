import { backupRestoreCli } from '../src/cli/backup.ts';

await backupRestoreCli(process.argv.slice(2));
