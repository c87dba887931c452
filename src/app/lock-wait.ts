// `deploy --lock-wait <duration>` (CI pipelines that may overlap): when another deploy holds the
// app's lock, try again until it is free or the wait is over, instead of failing at once. The whole
// deploy is retried: a LockError is raised before the host changes, and a rerun converges (hosts
// already on the release are no-ops), so trying again is always safe.
import pRetry from 'p-retry';
import type { Log } from './deps.ts';

/** A LockError, or an error caused by one (a multi-host deploy wraps each host's failure). */
export function isLockError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) if (e.name === 'LockError') return true;
  return false;
}

export interface LockWaitOptions {
  /** How long to keep trying, in ms (0: fail at once). */
  waitMs: number;
  /** Pause between tries (grows by half each time up to maxIntervalMs). */
  intervalMs?: number;
  maxIntervalMs?: number;
}

export function withLockWait<T>(log: Log, opts: LockWaitOptions, attempt: () => Promise<T>): Promise<T> {
  if (opts.waitMs <= 0) return attempt();
  const started = Date.now();
  return pRetry(attempt, {
    retries: Number.POSITIVE_INFINITY,
    maxRetryTime: opts.waitMs,
    minTimeout: opts.intervalMs ?? 3000,
    maxTimeout: opts.maxIntervalMs ?? 15_000,
    factor: 1.5,
    randomize: false,
    shouldRetry: ({ error }) => isLockError(error) && Date.now() - started < opts.waitMs,
    onFailedAttempt: ({ error }) => {
      if (!isLockError(error)) return;
      const left = Math.max(0, Math.round((opts.waitMs - (Date.now() - started)) / 1000));
      if (left > 0) log.warn(`${error.message.split('\n')[0]}; waiting for it (--lock-wait, ${left}s left)`);
    },
  });
}
