// npm run bench: deploy benchmarks on the sandbox host (see src/bench/run.ts).
import { benchMain } from '../src/bench/run.ts';

process.exitCode = await benchMain(process.argv.slice(2));
