// npm run sandbox:up [-- --skip-images]
import { parseArgs } from 'node:util';
import { sandboxUp } from '../src/sandbox/up.ts';

const { values } = parseArgs({ options: { 'skip-images': { type: 'boolean', default: false } }, strict: true });
try {
  await sandboxUp({ skipImages: values['skip-images'] });
} catch (e) {
  console.error(`ERROR (${(e as Error).name}): ${(e as Error).message}`);
  process.exit(1);
}
