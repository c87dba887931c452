// npm run sandbox:down [-- --network] [-- --engine]
import { parseFlags, usage } from '../src/cli/args.ts';
import { main } from '../src/cli/main.ts';
import { sandboxDown } from '../src/sandbox/down.ts';

const U = 'usage: npm run sandbox:down [-- --network] [-- --engine]   (--network also removes the sandbox network, --engine stops the Docker engine)';
await main(async () => {
  const { values } = parseFlags(
    process.argv.slice(2),
    { network: { type: 'boolean', default: false }, engine: { type: 'boolean', default: false }, verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' } },
    U,
    { max: 0 },
  );
  usage(U, values);
  await sandboxDown({ network: values.network, engine: values.engine });
});
