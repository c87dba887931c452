import { lockCli } from '../src/cli/parity.ts';

await lockCli(process.argv.slice(2));
