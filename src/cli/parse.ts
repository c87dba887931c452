// PURE: a command line → the values of the table's flags, strictly (node:util parseArgs). A flag
// the command does not have, a missing value, a value on a switch or too many / too few arguments
// is a UsageError: one line naming it plus the usage line, exit 2.
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';
import { describeParseError } from './args.ts';
import { HELP_FLAG, type CommandSpec, type FlagSpecs } from './spec.ts';

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  rest: string[];
}

/** parseArgs' option table for a command: its flags plus --help. */
export function parseOptions(flags: FlagSpecs): Record<string, { type: 'boolean' | 'string'; short?: string }> {
  const out: Record<string, { type: 'boolean' | 'string'; short?: string }> = {};
  for (const [name, f] of Object.entries({ ...flags, ...HELP_FLAG })) out[name] = f.short ? { type: f.type, short: f.short } : { type: f.type };
  return out;
}

/**
 * Where the verbatim part starts: the index just after the `n`-th positional, skipping flags and the
 * values of string flags ("--host h1", "-d staging", "--host=h1"). -1 when there are fewer.
 */
export function verbatimStart(argv: readonly string[], flags: FlagSpecs, n: number): number {
  const valued = new Set<string>();
  for (const [name, f] of Object.entries(flags)) {
    if (f.type !== 'string') continue;
    valued.add(`--${name}`);
    if (f.short) valued.add(`-${f.short}`);
  }
  let seen = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return seen + 1 === n ? i + 2 : -1;
    if (valued.has(a)) i++;
    else if (!a.startsWith('-') || a === '-') {
      if (++seen === n) return i + 1;
    }
  }
  return -1;
}

export function parseCommand(spec: CommandSpec, argv: readonly string[], usage: string): Parsed {
  let flagsPart = [...argv];
  let rest: string[] = [];
  if (spec.verbatimAfter !== undefined) {
    const at = verbatimStart(argv, spec.flags, spec.verbatimAfter);
    if (at >= 0) {
      flagsPart = argv.slice(0, at).filter((a) => a !== '--');
      rest = argv.slice(at);
    }
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: flagsPart, options: parseOptions(spec.flags), allowPositionals: true, strict: true }) as typeof parsed;
  } catch (e) {
    throw new UsageError(describeParseError(e), usage);
  }
  const values = { ...parsed.values };
  if (values.help) return { values, positionals: parsed.positionals, rest };
  const { min = 0, max = Infinity } = spec.positionals ?? {};
  const got = parsed.positionals;
  if (got.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(got[max])}`, usage);
  if (got.length < min) throw new UsageError(`missing ${missingArgument(spec, got.length)}`, usage);
  return { values, positionals: got, rest };
}

/** The name of the first missing positional, from the usage's args ("<app>", "status|release"). */
export function missingArgument(spec: CommandSpec, index: number): string {
  const words = (spec.args ?? '').split(' ').filter((w) => !w.startsWith('['));
  return words[index] ?? 'argument';
}
