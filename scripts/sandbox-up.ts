// npm run sandbox:up [-- --skip-images] [-- --rebuild traefik,s3]
import { parseArgs } from 'node:util';
import { sandboxUp } from '../src/sandbox/up.ts';

const { values } = parseArgs({ options: { 'skip-images': { type: 'boolean', default: false }, rebuild: { type: 'string' } }, strict: true });
try {
  await sandboxUp({ skipImages: values['skip-images'], rebuild: values.rebuild?.split(',').filter(Boolean) });
} catch (e) {
  console.error(`ERROR (${(e as Error).name}): ${(e as Error).message}`);
  process.exit(1);
}
