// Flags every command shares, the one strict flag parser, and small helpers for usage text and
// the <app> argument. A bad flag or argument is a UsageError (one line, exit 2), never a stack.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;
import { UsageError } from '../errors.ts';
import { checkRelease } from '../config/release.ts';

export const common = {
  verbose: { type: 'boolean', short: 'v' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/**
 * parseArgs, strict, with node's errors turned into one-line UsageErrors that name the flag.
 * `positionals` bounds how many bare arguments the command takes (default: any number).
 */
export function parseFlags<const O extends ParseArgsOptionsConfig>(
  argv: string[],
  options: O,
  usageText: string,
  positionals: { max?: number } = {},
): Parsed<O> {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as Parsed<O>;
  } catch (e) {
    throw new UsageError(describeParseError(e), usageText);
  }
  const max = positionals.max ?? Infinity;
  if (parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[max])}`, usageText);
  }
  return parsed;
}

/** node:util parseArgs messages → "unknown flag --x", "--x needs a value", "--x takes no value". */
export function describeParseError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = String(err?.message ?? e);
  const flag = /'(-{1,2}[^' ]+)/.exec(msg)?.[1];
  switch (err?.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag ?? '?'}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(msg) ? `${flag} needs a value` : `${flag} takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${JSON.stringify(/'([^']*)'/.exec(msg)?.[1] ?? '?')}`;
    default:
      return msg.split('\n')[0]!;
  }
}

/** --help: print the usage and exit 0. */
export function usage(text: string, args: { help?: boolean }) {
  if (args.help) {
    process.stdout.write(text + '\n');
    process.exit(0);
  }
}

export function needApp(positionals: string[], usageText: string): string {
  const app = positionals[0];
  if (!app) throw new UsageError('missing <app>', usageText);
  return app;
}

/** A flag that must be a whole number ≥ min (e.g. --tail). */
export function intFlag(flag: string, value: string | undefined, usageText: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`${flag} expects a whole number >= ${min}, got ${JSON.stringify(value)}`, usageText);
  return Number(value);
}

/** A flag naming a release (--release, --to): a valid image tag, which is also one safe path segment on the host. */
export function releaseFlag(flag: string, value: string | undefined, usageText: string, maxLength = 128): string | undefined {
  if (value === undefined) return undefined;
  const problem = checkRelease(value, maxLength);
  if (problem) throw new UsageError(`${flag} ${JSON.stringify(value)}: ${problem}`, usageText);
  return value;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** PURE: "90s", "15m", "1h30m", "2d" → milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h|d))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms;
}

/** A flag that takes a duration (--lock-wait 10m). */
export function durationFlag(flag: string, value: string | undefined, usageText: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) throw new UsageError(`${flag} expects a duration such as 30s, 10m, 1h30m or 2d, got ${JSON.stringify(value)}`, usageText);
  return ms;
}

/** --since: a duration back from now (docker takes it in seconds) or an ISO time, passed as docker reads it. */
export function sinceFlag(value: string | undefined, usageText: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms !== undefined) return `${Math.max(1, Math.round(ms / 1000))}s`;
  if (/^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) && !Number.isNaN(Date.parse(value))) return value;
  throw new UsageError(`--since expects a duration such as 15m, 2h or 1d, or an ISO time such as 2026-01-31T12:00:00Z, got ${JSON.stringify(value)}`, usageText);
}
