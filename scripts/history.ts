import { historyCli } from '../src/cli/releases.ts';

await historyCli(process.argv.slice(2));
