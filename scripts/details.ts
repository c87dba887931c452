import { detailsCli } from '../src/cli/parity.ts';

await detailsCli(process.argv.slice(2));
