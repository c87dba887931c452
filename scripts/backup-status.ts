import { backupStatusCli } from '../src/cli/backup.ts';

await backupStatusCli(process.argv.slice(2));
