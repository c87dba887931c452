import { statusCli } from '../src/cli/commands.ts';

await statusCli(process.argv.slice(2));
