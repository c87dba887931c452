import { logsCli } from '../src/cli/commands.ts';

await logsCli(process.argv.slice(2));
