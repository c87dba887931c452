// The client traffic used during every deploy under load (Berth and both baselines alike).
import type { LoadMixEntry, LoadResult } from '../sandbox/load.ts';
import { startLoad } from '../sandbox/load.ts';
import { sleep } from './env.ts';

export const SLOW_MS = 1500;

/** 60 % GET, 30 % POST writing a row to SQLite, 10 % slow requests (they span the switch). */
export const MIX: LoadMixEntry[] = [
  { kind: 'get', weight: 6, path: '/' },
  { kind: 'post', weight: 3, method: 'POST', path: '/write', body: '{"bench":true}' },
  { kind: 'slow', weight: 1, path: `/slow?ms=${SLOW_MS}` },
];

export const RATES = [50, 200] as const;
export const KEEP_ALIVE = [false, true] as const;

/** Hard bound of one load loop, whatever the action does. */
const MAX_LOAD_MS = 90_000;

/**
 * Constant-rate load on `url` around `action`: `leadMs` of load before it, `tailMs` after it
 * returns. Bounded in count (rate × 90 s) and time (90 s).
 */
export async function underLoad<T>(
  url: string,
  rate: number,
  keepAlive: boolean,
  action: () => Promise<T>,
  { leadMs = 1500, tailMs = 4000, headers }: { leadMs?: number; tailMs?: number; headers?: Record<string, string> } = {},
): Promise<{ value: T; load: LoadResult; actionStartedAt: number; actionEndedAt: number }> {
  // `headers` (e.g. the app's Host through a front load balancer) go on every request of the mix.
  const mix = headers ? MIX.map((m) => ({ ...m, headers: { ...m.headers, ...headers } })) : MIX;
  const load = startLoad({ url, ratePerSec: rate, maxRequests: Math.ceil((rate * MAX_LOAD_MS) / 1000), maxDurationMs: MAX_LOAD_MS, keepAlive, mix, timeoutMs: 10_000, maxInFlight: 400 });
  let value: T;
  let actionStartedAt = 0;
  let actionEndedAt = 0;
  try {
    await sleep(leadMs);
    actionStartedAt = Date.now();
    value = await action();
    actionEndedAt = Date.now();
    await sleep(tailMs);
  } finally {
    load.stop();
  }
  return { value: value!, load: await load.done, actionStartedAt, actionEndedAt };
}
