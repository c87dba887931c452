// Commands are data: every process Berth runs is first built as a `Cmd` (an argv array plus what it
// is for), so tests can assert it without running anything and --verbose can print it. Secrets travel
// only in `env` or `input`, never in argv, so an argv is always safe to log.

export interface Cmd {
  argv: string[];
  /** Read-only commands may run under --dry-run; mutating ones are printed instead. */
  mutates: boolean;
  /** Extra environment (e.g. secret values for compose interpolation). Never logged. */
  env?: Record<string, string>;
  /** Data written to stdin (a script, a file's content, a password). Never logged. */
  input?: string | Buffer;
  /** Which host the command acts on, for error messages. */
  host?: string;
}

export const read = (argv: string[], extra: Partial<Cmd> = {}): Cmd => ({ argv, mutates: false, ...extra });
export const write = (argv: string[], extra: Partial<Cmd> = {}): Cmd => ({ argv, mutates: true, ...extra });

/** POSIX shell quoting for one word (for the command string ssh hands to the remote shell). */
export function shQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}

export const shJoin = (argv: string[]) => argv.map(shQuote).join(' ');

/** How a command is shown to people: argv, shell-quoted. */
export const formatCmd = (cmd: Cmd) => shJoin(cmd.argv);

/** Split a command line into argv (double/single quotes, no shell expansion). */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return out;
}

