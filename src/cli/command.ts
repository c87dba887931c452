// For a scripts/<name>.ts entry point not yet in the command table (src/cli/table.ts): strict flags
// (a bad one is one line, exit 2), --help, the deps with --verbose/--json applied, and the one
// top-level error handler (main.ts). Table commands get all of this from src/cli/berth.ts.
import { type ParseArgsOptionsConfig, parseFlags, usage } from './args.ts';
import { createDeps } from './deps.ts';
import { main, type MainOptions } from './main.ts';

type Flags<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseFlags<O>>;

export function cliCommand<const O extends ParseArgsOptionsConfig>(
  argv: string[],
  usageText: string,
  options: O,
  limits: { max?: number },
  body: (parsed: Flags<O>, deps: ReturnType<typeof createDeps>) => Promise<number | void>,
): Promise<never> {
  const run: MainOptions = {};
  return main(async () => {
    const parsed = parseFlags(argv, options, usageText, limits);
    const values = parsed.values as { help?: boolean; verbose?: boolean; json?: boolean };
    usage(usageText, values);
    run.verbose = values.verbose;
    return body(parsed, createDeps(values));
  }, run);
}
