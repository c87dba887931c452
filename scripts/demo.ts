import { demoCli } from '../src/cli/demo.ts';

await demoCli(process.argv.slice(2));
