// The one entry point: `berth <command> …` (package.json bin, through src/cli/launch.mjs) and every
// npm script (`node src/cli/launch.mjs <command>`). Commands: src/cli/table.ts.
import { berthMain } from '../src/cli/berth.ts';

await berthMain(process.argv.slice(2));
