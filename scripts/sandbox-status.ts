// npm run sandbox:status [-- --json]
import { parseArgs } from 'node:util';
import { formatStatus, writeStatus } from '../src/sandbox/status.ts';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } }, strict: true });
try {
  const st = await writeStatus();
  console.log(values.json ? JSON.stringify(st, null, 2) : formatStatus(st));
} catch (e) {
  console.error(`ERROR (${(e as Error).name}): ${(e as Error).message}`);
  process.exit(1);
}
