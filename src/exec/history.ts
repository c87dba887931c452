// The per-app audit trail on each host: one JSON line appended per deploy, rollback, restore, maintenance and live
// (who, when, what, outcome). Appending is one round trip; reading returns the lines as they are.
import type { Cmd } from '../docker/command.ts';
import { type SshTarget, sshScript } from '../docker/ssh.ts';
import type { ScriptPart } from './host-scripts.ts';

export type HistoryAction = 'deploy' | 'rollback' | 'restore' | 'maintenance' | 'live';

export interface HistoryEntry {
  at: string;
  app: string;
  host: string;
  action: HistoryAction;
  outcome: 'ok' | 'failed';
  /** Operator user and machine that ran the command. */
  user: string;
  machine: string;
  release?: string;
  image?: string;
  imageId?: string;
  digest?: string;
  configHash?: string;
  /** The release that was live before (deploy, rollback). */
  previous?: string;
  detail?: string;
  error?: string;
}

// A line is appended whole with one write (well under PIPE_BUF), so concurrent appends do not interleave.
const APPEND = `
set -eu
mkdir -p "$(dirname "$1")"
line=$(cat)
printf '%s\\n' "$line" >> "$1"
`;

/** Printed by the append as a part of another round trip (historyAppendPart), so the caller knows it ran. */
export const HISTORY_APPENDED = 'history-appended';

const APPEND_ARG = `
set -eu
mkdir -p "$(dirname "$1")"
printf '%s\\n' "$2" >> "$1"
echo ${HISTORY_APPENDED}
`;

/**
 * The append as a part of another script's round trip (the lock's release), the entry as an
 * argument: that round trip's stdin may carry a tar. Only for SUCCESS entries: they name releases
 * and images, never an error text that could quote a secret.
 */
export const historyAppendPart = (file: string, entry: HistoryEntry): ScriptPart => ({ script: APPEND_ARG, args: [file, JSON.stringify(entry)] });

export const historyScripts = {
  append: (t: SshTarget, file: string, entry: HistoryEntry): Cmd => sshScript(t, APPEND, [file], { input: JSON.stringify(entry) }),
  read: (t: SshTarget, file: string): Cmd => sshScript(t, 'cat "$1" 2>/dev/null || true', [file], { mutates: false }),
};

/** Parse history.jsonl; a torn or foreign line is skipped, not fatal. */
export function parseHistory(text: string): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as HistoryEntry;
      if (e && typeof e.at === 'string' && typeof e.action === 'string') out.push(e);
    } catch {
      /* skipped */
    }
  }
  return out;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** One line per entry, oldest first. */
export function formatHistory(host: string, entries: HistoryEntry[]): string {
  if (!entries.length) return `${host}: no history yet`;
  return [
    `${host}:`,
    ...entries.map((e) =>
      [
        '  ' + pad(e.at.replace(/\.\d+Z$/, 'Z'), 21),
        pad(e.action, 11),
        pad(e.outcome, 6),
        pad(e.release ?? '-', 28),
        `by ${e.user}@${e.machine}`,
        e.imageId || e.digest ? `image ${(e.digest ?? e.imageId ?? '').replace(/^.*sha256:/, 'sha256:').slice(0, 19)}` : '',
        e.configHash ? `config ${e.configHash.slice(0, 10)}` : '',
        e.detail ? `(${e.detail})` : '',
        e.error ? `error: ${e.error.split('\n')[0]!.slice(0, 200)}` : '',
      ]
        .filter(Boolean)
        .join(' '),
    ),
  ].join('\n');
}
