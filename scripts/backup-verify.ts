import { backupVerifyCli } from '../src/cli/backup.ts';

await backupVerifyCli(process.argv.slice(2));
