import { setupCli } from '../src/cli/commands.ts';

await setupCli(process.argv.slice(2));
