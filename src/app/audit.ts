// Wrap a host-level deploy/rollback/restore so its outcome lands in the host's audit trail:
// "ok" with what was recorded, or "failed" with the error (secret values redacted), then rethrown.
// A no-op deploy changes nothing and is not recorded (it stays one SSH round trip). A successful
// action may append its entry in the round trip that releases its lock (Audit).
import type { HistoryAction } from '../exec/history.ts';
import { redact } from '../log/redact.ts';
import type { ReleaseRecord } from '../exec/state.ts';
import type { Deps } from './deps.ts';
import { errorText, historyEntry, type NewEntry, recordHistory } from './history.ts';
import { HISTORY_APPENDED, historyAppendPart } from '../exec/history.ts';
import type { ScriptPart } from '../exec/host-scripts.ts';
import { historyFile } from '../names.ts';
import type { HostHandle } from './host.ts';

type Outcome = { result?: string; release?: string; record?: ReleaseRecord; previous?: string; detail?: string };

/**
 * Lets the audited action append its success entry in a round trip it makes anyway (the lock's
 * release) instead of one of its own.
 */
export interface Audit {
  /** The entry for this outcome as a part to chain. */
  successPart(outcome: Outcome): ScriptPart;
  /** What that part printed (undefined when it did not run): unless it says appended, audited appends the entry itself. */
  appended(output: string | undefined): void;
}

export async function audited<T extends object>(
  deps: Deps, h: HostHandle, app: string, action: HistoryAction, secrets: string[], planned: Omit<NewEntry, 'action' | 'outcome'>, fn: (audit: Audit) => Promise<T>,
): Promise<T> {
  const success = (o: Outcome): NewEntry => {
    const r = o.record;
    return {
      action, outcome: 'ok', ...planned, ...(o.release ? { release: o.release } : {}),
      ...(r ? { image: r.image, imageId: r.imageId, digest: r.digest, configHash: r.configHash } : {}),
      ...(o.previous ? { previous: o.previous } : {}),
      ...(o.detail ? { detail: o.detail } : {}),
    };
  };
  let merged = false;
  const audit: Audit = {
    successPart: (o) => historyAppendPart(historyFile(app), historyEntry(deps, h, app, success(o))),
    appended: (output) => void (merged = !!output?.includes(HISTORY_APPENDED)),
  };
  let out: T;
  try {
    out = await fn(audit);
  } catch (err) {
    await recordHistory(deps, h, app, { action, outcome: 'failed', ...planned, error: redact(errorText(err), secrets) });
    throw err;
  }
  const o = out as Outcome;
  if (o.result === 'noop' || merged) return out;
  await recordHistory(deps, h, app, success(o));
  return out;
}
