import { pruneCli } from '../src/cli/releases.ts';

await pruneCli(process.argv.slice(2));
