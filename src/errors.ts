// The few error classes Berth throws on purpose. Each carries the data the CLI prints, so the one
// top-level handler (formatError) can say what went wrong without knowing where it happened.
import { shQuote as quote } from './docker/command.ts';
import { stripAnsi } from './log/ansi.ts';

/** One problem in one config file. `path` is a dotted key path ("accessories.postgres.port", "domains[1]"). */
export interface Issue {
  /** File the problem is in, relative to the project root ("apps/zen_miner/app.yml"). */
  file: string;
  /** Key path inside the file; "" for the file as a whole. */
  path: string;
  /** What would have been valid, phrased to follow "expected". */
  expected: string;
  /** What was there, phrased to follow "got" (a JSON value, or "nothing"). */
  found: string;
  /** How to fix it, when there is more to say than `expected`. */
  hint?: string;
  /** 1-based position in the file, when known (syntax errors). */
  line?: number;
  column?: number;
}

/** `file[:line[:col]]: path: expected …, got …; hint` — one line per issue. */
export function formatIssue(issue: Issue): string {
  let where = issue.file;
  if (issue.line !== undefined) where += `:${issue.line}${issue.column !== undefined ? `:${issue.column}` : ''}`;
  const path = issue.path ? `${issue.path}: ` : '';
  const hint = issue.hint ? `; ${issue.hint}` : '';
  return `${where}: ${path}expected ${issue.expected}, got ${issue.found}${hint}`;
}

/** Every config problem found, reported at once. */
export class ConfigError extends Error {
  readonly issues: readonly Issue[];
  constructor(issues: Issue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** A process exited non-zero. argv is safe to print (secrets never travel in argv). */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number,
    readonly stderr: string,
    readonly host?: string,
  ) {
    const on = host ? ` on ${host}` : '';
    const tail = stderr.trim() ? `\n${lastLines(stripAnsi(stderr), 20)}` : '';
    super(`command failed${on} (exit ${exitCode}): ${argv.map(quote).join(' ')}${tail}`);
    this.name = 'CommandError';
  }
}

/** A deploy step failed; says which step, for which app and host, and wraps the cause. */
export class StepError extends Error {
  constructor(
    readonly step: string,
    message: string,
    readonly context: { app?: string; host?: string } = {},
    options?: { cause?: unknown },
  ) {
    const scope = [context.app, context.host].filter(Boolean).join('@');
    super(`${step}${scope ? ` (${scope})` : ''}: ${message}`, options);
    this.name = 'StepError';
  }
}

/** A container never became healthy. Carries the last log lines so the operator sees why. */
export class HealthError extends Error {
  constructor(
    readonly service: string,
    readonly host: string,
    readonly reason: string,
    readonly logTail: readonly string[] = [],
  ) {
    const logs = logTail.length ? `\nlast ${logTail.length} log lines:\n${logTail.map((l) => `  | ${stripAnsi(l)}`).join('\n')}` : '';
    super(`${service} on ${host} is not healthy: ${reason}${logs}`);
    this.name = 'HealthError';
  }
}

/**
 * The SSH connection to a host was lost during a phase. Says which host and phase, and what state
 * the host was left in; what the failed step printed is kept as the cause (shown with --verbose).
 */
export class ConnectionLostError extends Error {
  constructor(
    readonly host: string,
    readonly phase: string,
    readonly state: string,
    cause?: unknown,
  ) {
    super(`lost the SSH connection to ${host} during "${phase}" (the host does not answer). ${state}`, { cause });
    this.name = 'ConnectionLostError';
  }
}

/** Someone else holds the deploy lock. Says who, and the command that releases it. */
export class LockError extends Error {
  constructor(
    readonly app: string,
    readonly holder: string,
    readonly releaseCommand: string,
  ) {
    super(`${app} is locked by ${holder}\nrelease it (only if that deploy is dead) with: ${releaseCommand}`);
    this.name = 'LockError';
  }
}

/**
 * A bad flag or argument on the command line: one line naming it plus the command's usage line
 * (none when `usage` is empty). The CLI exits 2 for it.
 */
export class UsageError extends Error {
  constructor(problem: string, readonly usage: string) {
    super(usage ? `${problem}; ${firstUsageLine(usage)}   (--help for more)` : problem);
    this.name = 'UsageError';
  }
}

/**
 * A host, role, app or destination named on the command line that the project does not have.
 * Also a usage error (exit 2): nothing ran, the fix is in what was typed (or in the config it names).
 */
export class UnknownNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownNameError';
  }
}

/** Exit codes a script can use: 0 ok, 1 failed, 2 usage (bad flag, unknown name), 3 red or drift (status, plan --check …). */
export const EXIT = { ok: 0, failed: 1, usage: 2, red: 3 } as const;

/** The exit code of a failed command: 2 when what was typed is wrong (nothing ran), else 1. */
export const exitCodeOf = (err: unknown): 1 | 2 => (err instanceof Error && (err.name === 'UsageError' || err.name === 'UnknownNameError') ? 2 : 1);

const firstUsageLine = (usage: string) => usage.split('\n')[0]!.trim();

/** Errors Berth raises on purpose carry their own explanation; anything else is a bug or a surprise. */
const EXPECTED_ERRORS = new Set(['ConfigError', 'CommandError', 'StepError', 'HealthError', 'LockError', 'UsageError', 'UnknownNameError', 'ConnectionLostError']);
export const isExpectedError = (err: unknown): boolean => err instanceof Error && EXPECTED_ERRORS.has(err.name);

function lastLines(text: string, n: number): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}

/**
 * What the CLI prints for an error: `ERROR (Class): message`, plus the stack (and causes) when
 * verbose. Never a stack otherwise: an unexpected error is its first line and a pointer to --verbose.
 */
export function formatError(err: unknown, verbose = false): string {
  if (!(err instanceof Error)) return `ERROR: ${String(err)}`;
  if (!verbose && !isExpectedError(err)) {
    const cause = err.cause instanceof Error ? ` (caused by ${err.cause.name}: ${firstLine(err.cause.message)})` : '';
    return `ERROR (${err.name || err.constructor.name}): ${firstLine(err.message)}${cause}${VERBOSE_HINT}`;
  }
  let out = `ERROR (${err.name || err.constructor.name}): ${err.message}`;
  if (verbose) {
    const stack = err.stack?.split('\n').slice(1).join('\n');
    if (stack) out += `\n${stack}`;
    let cause = err.cause;
    while (cause !== undefined) {
      if (cause instanceof Error) {
        out += `\ncaused by ${cause.name}: ${cause.message}`;
        const s = cause.stack?.split('\n').slice(1).join('\n');
        if (s) out += `\n${s}`;
        cause = cause.cause;
      } else {
        out += `\ncaused by: ${String(cause)}`;
        break;
      }
    }
  } else if (err.cause instanceof Error && !(err instanceof ConnectionLostError)) {
    out += `\ncaused by ${err.cause.name}: ${err.cause.message}`;
  }
  return out;
}

const VERBOSE_HINT = ' — run with --verbose for details';
const firstLine = (s: string) => s.trim().split('\n')[0] ?? '';
