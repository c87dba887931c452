import { execCli } from '../src/cli/commands.ts';

await execCli(process.argv.slice(2));
