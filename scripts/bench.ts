// npm run bench: deploy benchmarks on the sandbox host (see src/bench/run.ts).
import { benchMain } from '../src/bench/run.ts';
import { main } from '../src/cli/main.ts';

await main(() => benchMain(process.argv.slice(2)));
