// Handlers of the sandbox and development commands: sandbox:up|down|status and bench.
import { benchMain, parseBenchArgs } from '../bench/run.ts';
import { UsageError } from '../errors.ts';
import { sandboxDown } from '../sandbox/down.ts';
import { formatStatus, writeStatus } from '../sandbox/status.ts';
import { sandboxUp } from '../sandbox/up.ts';
import type { CommandArgs } from './spec.ts';

export async function sandboxUpCli({ values }: CommandArgs<{ 'skip-images'?: boolean; rebuild?: string }>) {
  await sandboxUp({ skipImages: values['skip-images'], rebuild: values.rebuild?.split(',').filter(Boolean) });
}

export async function sandboxDownCli({ values }: CommandArgs<{ network?: boolean; engine?: boolean }>) {
  await sandboxDown({ network: !!values.network, engine: !!values.engine });
}

export async function sandboxStatusCli({ values }: CommandArgs) {
  const st = await writeStatus();
  console.log(values.json ? JSON.stringify(st, null, 2) : formatStatus(st));
}

/** The bench parses its own flags (src/bench/run.ts) from the line as given; the table checked them first. */
export function benchCli({ values, usage }: CommandArgs<{ quick?: boolean; only?: string; load?: string }>) {
  const argv = [...(values.quick ? ['--quick'] : []), ...(values.only !== undefined ? ['--only', values.only] : []), ...(values.load !== undefined ? ['--load', values.load] : [])];
  try {
    parseBenchArgs(argv);
  } catch (e) {
    // Its value checks, with the usage line of the form the user typed.
    if (e instanceof UsageError) throw new UsageError(e.message.split('; usage: ')[0]!, usage);
    throw e;
  }
  return benchMain(argv);
}
