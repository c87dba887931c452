// What Berth reports, as data. One formatter per output style turns events into lines (PURE).

export type LogEvent =
  | { kind: 'info'; message: string }
  | { kind: 'warn'; message: string }
  | { kind: 'error'; message: string }
  | { kind: 'step-start'; name: string }
  | { kind: 'step-end'; name: string; ms: number; note?: string; failed?: boolean }
  /** A command Berth runs (shown only when verbose). */
  | { kind: 'command'; line: string }
  /** The command's own result (a plan, a status table): printed as is on stdout. */
  | { kind: 'output'; text: string };

export type Style = 'terminal' | 'ci' | 'json';

import { PLAIN, type Paint } from './colour.ts';

export const formatMs = (ms: number) => (ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`);

/**
 * One event as text (without trailing newline), or undefined when the style shows nothing for it.
 * `p` colours the terminal style (the logger passes colours only to a terminal; see colour.ts).
 */
export function formatEvent(e: LogEvent, style: Style, p: Paint = PLAIN): string | undefined {
  if (style === 'json') return JSON.stringify(e);
  const ci = style === 'ci';
  if (ci) p = PLAIN;
  switch (e.kind) {
    case 'info':
      return e.message;
    case 'warn':
      return p.yellow(`${ci ? 'WARN: ' : '! '}${e.message}`);
    case 'error':
      return p.red(`${ci ? 'ERROR: ' : '✗ '}${e.message}`);
    case 'step-start':
      return ci ? `--- ${e.name}` : `${p.cyan('▸')} ${e.name}`;
    case 'step-end':
      if (e.failed) return `${ci ? '--- FAILED:' : p.red('✗')} ${e.name} (${formatMs(e.ms)})${e.note ? ` ${e.note}` : ''}`;
      return `${ci ? '--- done:' : p.green('✓')} ${e.name} ${p.dim(`(${formatMs(e.ms)})`)}${e.note ? ` ${e.note}` : ''}`;
    case 'command':
      return p.dim(`$ ${e.line}`);
    case 'output':
      return e.text.replace(/\n$/, '');
  }
}
