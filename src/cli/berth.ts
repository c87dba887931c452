// `berth <command> [args] [flags]` (and every npm script, through its scripts/<name>.mjs and src/cli/launch.mjs): look the
// command up in the table, refuse flags npm swallowed, parse strictly, answer --help, run the
// handler inside main() (one-line errors, exit codes 0/1/2/3).
import { UsageError } from '../errors.ts';
import { paintFor } from '../log/colour.ts';
import { commandHelp, formOf, generalHelp, usageLine } from './help.ts';
import { main, type MainOptions } from './main.ts';
import { detectSwallowed } from './npm-swallow.ts';
import { parseCommand } from './parse.ts';
import type { CommandSpec } from './spec.ts';
import { COMMANDS, findCommand } from './table.ts';

const TOP_USAGE = 'usage: berth <command> [args] [flags]';

/** The closest command name, for "did you mean" (edit distance ≤ 2, or a unique prefix). */
export function suggest(name: string, table: readonly CommandSpec[] = COMMANDS): string | undefined {
  const names = table.filter((c) => !c.hidden).map((c) => c.name);
  const prefixed = names.filter((n) => n.startsWith(name));
  if (prefixed.length === 1) return prefixed[0];
  if (prefixed.length > 1) return undefined;
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const n of names) {
    const d = distance(name, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

export function berthMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<never> {
  const run: MainOptions = {};
  let form = formOf(env);
  return main(async () => {
    const [name, ...rest] = argv;
    if (name === '--help' || name === '-h') {
      process.stdout.write(`${generalHelp(COMMANDS, form, paintFor(process.stdout, env))}\n`);
      return 0;
    }
    // No command: the same list, as a usage error (a script calling bare `berth` is a mistake).
    if (name === undefined) {
      process.stderr.write(`${generalHelp(COMMANDS, form, paintFor(process.stderr, env))}\n`);
      return 2;
    }
    if (name === '--version' || name === '-V') argv = ['version', ...rest];
    const spec = findCommand(argv[0]!);
    if (!spec) {
      const guess = name.startsWith('-') ? undefined : suggest(name);
      throw new UsageError(`${name.startsWith('-') ? `unknown flag ${name} before the command` : `unknown command ${JSON.stringify(name)}`}${guess ? ` (did you mean "${guess}"?)` : ''}`, TOP_USAGE);
    }
    const args = argv.slice(1);
    form = formOf(env, spec);
    const usage = usageLine(spec, form);
    const swallowed = detectSwallowed(spec, args, env);
    if (swallowed) throw new UsageError(swallowed, '');
    const { values, positionals, rest: verbatim } = parseCommand(spec, args, usage);
    run.verbose = !!values.verbose;
    if (values.help) {
      process.stdout.write(`${commandHelp(spec, form, paintFor(process.stdout, env))}\n`);
      return 0;
    }
    // npm prints its "> berth@… <script>" banner on stdout unless -s: say so, or `| jq` fails on it.
    if (values.json && form === 'npm' && env.npm_config_loglevel !== 'silent') {
      process.stderr.write(`note: npm printed its banner on stdout before the JSON; use "npm run -s ${spec.name} -- …" to pipe it\n`);
    }
    return spec.run({ values: values as never, positionals, rest: verbatim, usage, main: run, table: COMMANDS, form });
  }, run);
}
