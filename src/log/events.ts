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

export const formatMs = (ms: number) => (ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`);

/** One event as text (without trailing newline), or undefined when the style shows nothing for it. */
export function formatEvent(e: LogEvent, style: Style): string | undefined {
  if (style === 'json') return JSON.stringify(e);
  const ci = style === 'ci';
  switch (e.kind) {
    case 'info':
      return e.message;
    case 'warn':
      return `${ci ? 'WARN: ' : '! '}${e.message}`;
    case 'error':
      return `${ci ? 'ERROR: ' : '✗ '}${e.message}`;
    case 'step-start':
      return ci ? `--- ${e.name}` : `▸ ${e.name}`;
    case 'step-end':
      if (e.failed) return `${ci ? '--- FAILED:' : '✗'} ${e.name} (${formatMs(e.ms)})${e.note ? ` ${e.note}` : ''}`;
      return `${ci ? '--- done:' : '✓'} ${e.name} (${formatMs(e.ms)})${e.note ? ` ${e.note}` : ''}`;
    case 'command':
      return `$ ${e.line}`;
    case 'output':
      return e.text.replace(/\n$/, '');
  }
}
