// npm run sandbox:status [-- --json]
import { parseFlags, usage } from '../src/cli/args.ts';
import { main } from '../src/cli/main.ts';
import { formatStatus, writeStatus } from '../src/sandbox/status.ts';

const U = 'usage: npm run sandbox:status [-- --json]';
await main(async () => {
  const { values } = parseFlags(
    process.argv.slice(2),
    { json: { type: 'boolean', default: false }, verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' } },
    U,
    { max: 0 },
  );
  usage(U, values);
  const st = await writeStatus();
  console.log(values.json ? JSON.stringify(st, null, 2) : formatStatus(st));
});
