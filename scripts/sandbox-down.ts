// npm run sandbox:down [-- --network] [-- --engine]
import { parseArgs } from 'node:util';
import { sandboxDown } from '../src/sandbox/down.ts';

const { values } = parseArgs({
  options: { network: { type: 'boolean', default: false }, engine: { type: 'boolean', default: false } },
  strict: true,
});
try {
  await sandboxDown({ network: values.network, engine: values.engine });
} catch (e) {
  console.error(`ERROR (${(e as Error).name}): ${(e as Error).message}`);
  process.exit(1);
}
