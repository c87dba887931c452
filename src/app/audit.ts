// Wrap a host-level deploy/rollback/restore so its outcome lands in the host's audit trail:
// "ok" with what was recorded, or "failed" with the error (secret values redacted), then rethrown.
// A no-op deploy changes nothing and is not recorded (it stays one SSH round trip).
import type { HistoryAction } from '../exec/history.ts';
import { redact } from '../log/redact.ts';
import type { ReleaseRecord } from '../exec/state.ts';
import type { Deps } from './deps.ts';
import { errorText, type NewEntry, recordHistory } from './history.ts';
import type { HostHandle } from './host.ts';

type Outcome = { result?: string; release?: string; record?: ReleaseRecord; previous?: string; detail?: string };

export async function audited<T extends object>(
  deps: Deps, h: HostHandle, app: string, action: HistoryAction, secrets: string[], planned: Omit<NewEntry, 'action' | 'outcome'>, fn: () => Promise<T>,
): Promise<T> {
  let out: T;
  try {
    out = await fn();
  } catch (err) {
    await recordHistory(deps, h, app, { action, outcome: 'failed', ...planned, error: redact(errorText(err), secrets) });
    throw err;
  }
  const o = out as Outcome;
  if (o.result === 'noop') return out;
  const r = o.record;
  await recordHistory(deps, h, app, {
    action, outcome: 'ok', ...planned, ...(o.release ? { release: o.release } : {}),
    ...(r ? { image: r.image, imageId: r.imageId, digest: r.digest, configHash: r.configHash } : {}),
    ...(o.previous ? { previous: o.previous } : {}),
    ...(o.detail ? { detail: o.detail } : {}),
  });
  return out;
}
