import { configCli } from '../src/cli/parity.ts';

await configCli(process.argv.slice(2));
