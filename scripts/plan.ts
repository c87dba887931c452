import { planCli } from '../src/cli/plan.ts';

await planCli(process.argv.slice(2));
