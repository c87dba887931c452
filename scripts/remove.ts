import { removeCli } from '../src/cli/parity.ts';

await removeCli(process.argv.slice(2));
