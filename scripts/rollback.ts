import { rollbackCli } from '../src/cli/commands.ts';

await rollbackCli(process.argv.slice(2));
