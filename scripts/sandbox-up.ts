// npm run sandbox:up [-- --skip-images] [-- --rebuild traefik,s3]
import { parseFlags, usage } from '../src/cli/args.ts';
import { main } from '../src/cli/main.ts';
import { sandboxUp } from '../src/sandbox/up.ts';

const U = 'usage: npm run sandbox:up [-- --skip-images] [-- --rebuild <image>,…]';
await main(async () => {
  const { values } = parseFlags(
    process.argv.slice(2),
    { 'skip-images': { type: 'boolean', default: false }, rebuild: { type: 'string' }, verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' } },
    U,
    { max: 0 },
  );
  usage(U, values);
  await sandboxUp({ skipImages: values['skip-images'], rebuild: values.rebuild?.split(',').filter(Boolean) });
});
