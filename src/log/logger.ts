// The logger every Berth command writes through. It redacts every known secret value from every
// event before formatting, so no code path can print a secret by accident.
import type { Log } from '../app/deps.ts';
import { formatEvent, type LogEvent, type Style } from './events.ts';
import { redact } from './redact.ts';
import { colourEnabled, paint } from './colour.ts';
import { shQuote } from '../docker/command.ts';

export interface Sink {
  /** Progress and messages (stderr). */
  err(line: string): void;
  /** The command's result (stdout). */
  out(line: string): void;
}

export interface LoggerOptions {
  /** One JSON object per line instead of text. */
  json?: boolean;
  /** Show every command Berth runs. */
  verbose?: boolean;
  /** Secret values known up front; more can be added with addSecrets. */
  secrets?: string[];
  /** "terminal" (default on a TTY) or "ci" (plain lines; default when CI is set or not a TTY). */
  style?: 'terminal' | 'ci';
  sink?: Sink;
  /** Colour the terminal style (default: stderr is a terminal and neither NO_COLOR nor CI is set). */
  colour?: boolean;
  /** Monotonic clock in ms (tests inject one). */
  clock?: () => number;
}

export interface Logger extends Log {
  /** Log a command (argv words or a formatted line); shown only when verbose. */
  command(argv: readonly string[] | string): void;
  /** Print the command's result on stdout (redacted like everything else). */
  output(text: string): void;
  /** The secret values known so far (for the top-level error handler). */
  secrets(): string[];
  /** Every event emitted so far, already redacted (tests, --json summaries). */
  readonly events: readonly LogEvent[];
}

const processSink: Sink = {
  err: (line) => process.stderr.write(line + '\n'),
  out: (line) => process.stdout.write(line + '\n'),
};

const quoteWord = shQuote;

export function defaultStyle(env: NodeJS.ProcessEnv = process.env, isTTY = !!process.stderr.isTTY): 'terminal' | 'ci' {
  return env.CI || !isTTY ? 'ci' : 'terminal';
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const known = new Set<string>((opts.secrets ?? []).filter(Boolean));
  const style: Style = opts.json ? 'json' : (opts.style ?? defaultStyle());
  const sink = opts.sink ?? processSink;
  const clock = opts.clock ?? (() => performance.now());
  const p = paint(opts.colour ?? (opts.sink === undefined && colourEnabled(process.stderr)));
  const events: LogEvent[] = [];

  const clean = (s: string) => redact(s, known);
  const emit = (e: LogEvent) => {
    const safe = { ...e } as Record<string, unknown>;
    for (const k of Object.keys(safe)) if (typeof safe[k] === 'string' && k !== 'kind') safe[k] = clean(safe[k] as string);
    const ev = safe as LogEvent;
    events.push(ev);
    if (ev.kind === 'command' && !opts.verbose) return;
    // The result goes to stdout as is (with --json it is the command's JSON document).
    if (ev.kind === 'output') return sink.out(ev.text.replace(/\n$/, ''));
    const line = formatEvent(ev, style, p);
    if (line !== undefined) sink.err(line);
  };

  return {
    events,
    info: (message) => emit({ kind: 'info', message }),
    warn: (message) => emit({ kind: 'warn', message }),
    error: (message) => emit({ kind: 'error', message }),
    step(name) {
      const start = clock();
      emit({ kind: 'step-start', name });
      let done = false;
      return (note?: string, failed?: boolean) => {
        const ms = clock() - start;
        if (!done) emit({ kind: 'step-end', name, ms, ...(note ? { note } : {}), ...(failed ? { failed } : {}) });
        done = true;
        return ms;
      };
    },
    command: (argv) => emit({ kind: 'command', line: typeof argv === 'string' ? argv : argv.map(quoteWord).join(' ') }),
    output: (text) => emit({ kind: 'output', text }),
    addSecrets(values) {
      for (const v of values) if (v) known.add(v);
    },
    secrets: () => [...known],
  };
}
