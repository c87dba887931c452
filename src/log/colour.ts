// Colour only where a person reads it: a terminal, not NO_COLOR (https://no-color.org), not CI,
// not TERM=dumb, not a pipe. FORCE_COLOR=1 turns it on anyway (below NO_COLOR).

export function colourEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.CI || env.TERM === 'dumb') return false;
  return !!stream.isTTY;
}

export interface Paint {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const same = (s: string) => s;

export const PLAIN: Paint = { bold: same, dim: same, red: same, green: same, yellow: same, cyan: same };
export const COLOURS: Paint = { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };

export const paint = (on: boolean): Paint => (on ? COLOURS : PLAIN);

/** The paint for what goes to a stream of this process. */
export const paintFor = (stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Paint => paint(colourEnabled(stream, env));
