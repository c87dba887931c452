// What one deploy under load did to its clients (PURE): failed requests, the mixed-version window
// and the time from "new colour healthy" to "first answer from it".
import type { LoadSample } from '../sandbox/load.ts';

/** A request failed when it got no response (connection error, timeout, skipped) or a non-2xx status. */
export const isFailure = (s: Pick<LoadSample, 'status'>) => s.status < 200 || s.status >= 300;

export const completedAt = (s: Pick<LoadSample, 'startedAt' | 'latencyMs'>) => s.startedAt + s.latencyMs;

export interface MixedWindow {
  /**
   * By request start: the span from the first completed answer of the new release (T) to the start
   * of the last request that was answered by the old release although it started after T. A client
   * that has seen the new release can still get the old one during this span. 0 when none.
   */
  byStartMs: number;
  /** Requests started after T and answered by the old release. */
  byStartCount: number;
  /**
   * By response completion: the span from T to the completion of the last old-release answer.
   * Includes in-flight requests that the old colour drains (e.g. slow requests started before the switch).
   */
  byCompletionMs: number;
  /** The same by completion, over fast requests only (the mix entries other than `slow`). */
  byCompletionFastMs: number;
}

export interface RunAnalysis {
  requests: number;
  failed: number;
  /** Of `failed`: never sent, the load generator being at its in-flight cap (responses too slow to keep up). */
  skipped: number;
  failedByKind: Record<string, number>;
  /** status (0 = no response) → count, over failed requests. */
  failedByStatus: Record<string, number>;
  /** First error messages of requests that got no response (at most 5). */
  errors: string[];
  releaseCounts: Record<string, number>;
  firstNewAnswerAt?: number;
  mixed: MixedWindow;
  /**
   * First answer from the new release completed after its container turned healthy, minus that
   * moment. (A baseline can answer from the new container earlier through a stale route: compose
   * recreated it on the old container's IP, which Traefik still routed to.)
   */
  readyToServingMs?: number;
}

export function analyzeRun(samples: readonly LoadSample[], oldRelease: string, newRelease: string, healthyAt?: number): RunAnalysis {
  const failedSamples = samples.filter(isFailure);
  const failedByKind: Record<string, number> = {};
  const failedByStatus: Record<string, number> = {};
  for (const s of failedSamples) {
    failedByKind[s.kind] = (failedByKind[s.kind] ?? 0) + 1;
    failedByStatus[String(s.status)] = (failedByStatus[String(s.status)] ?? 0) + 1;
  }
  const releaseCounts: Record<string, number> = {};
  for (const s of samples) if (s.release && !isFailure(s)) releaseCounts[s.release] = (releaseCounts[s.release] ?? 0) + 1;
  const ok = samples.filter((s) => !isFailure(s));
  const newDone = ok.filter((s) => s.release === newRelease).map(completedAt);
  const firstNewAnswerAt = newDone.length ? Math.min(...newDone) : undefined;
  const mixed: MixedWindow = { byStartMs: 0, byStartCount: 0, byCompletionMs: 0, byCompletionFastMs: 0 };
  if (firstNewAnswerAt !== undefined) {
    const old = ok.filter((s) => s.release === oldRelease);
    const lateStarts = old.filter((s) => s.startedAt > firstNewAnswerAt);
    mixed.byStartCount = lateStarts.length;
    mixed.byStartMs = Math.max(0, ...lateStarts.map((s) => s.startedAt - firstNewAnswerAt));
    mixed.byCompletionMs = Math.max(0, ...old.map((s) => completedAt(s) - firstNewAnswerAt));
    mixed.byCompletionFastMs = Math.max(0, ...old.filter((s) => s.kind !== 'slow').map((s) => completedAt(s) - firstNewAnswerAt));
  }
  return {
    requests: samples.length,
    failed: failedSamples.length,
    skipped: failedSamples.filter((s) => s.error?.startsWith('skipped:')).length,
    failedByKind,
    failedByStatus,
    errors: [...new Set(failedSamples.map((s) => s.error).filter((e): e is string => !!e))].slice(0, 5),
    releaseCounts,
    firstNewAnswerAt,
    mixed,
    readyToServingMs: healthyAt === undefined ? undefined : firstAtOrAfter(newDone, healthyAt),
  };
}

function firstAtOrAfter(times: number[], t: number): number | undefined {
  const after = times.filter((x) => x >= t);
  return after.length ? Math.min(...after) - t : undefined;
}

/** `Accepted publickey` lines (one per SSH connection at LogLevel VERBOSE) in a chunk of sshd's log. */
export const countAcceptedConnections = (logChunk: string) => (logChunk.match(/Accepted publickey/g) ?? []).length;

/**
 * Litestream's data-loss window: acknowledged writes (id → ack time) against the last id found in
 * the restored database. Lost rows are acknowledged ids above it; the window is the time between
 * the ack of the last restored row and the ack of the last acknowledged one.
 */
export function dataLossWindow(acks: readonly { id: number; ackAt: number }[], lastRestoredId: number): { lastAckedId: number; lostRows: number; windowMs: number } {
  if (acks.length === 0) return { lastAckedId: 0, lostRows: 0, windowMs: 0 };
  const sorted = [...acks].sort((a, b) => a.id - b.id);
  const last = sorted.at(-1)!;
  const lost = sorted.filter((a) => a.id > lastRestoredId);
  if (lost.length === 0) return { lastAckedId: last.id, lostRows: 0, windowMs: 0 };
  const kept = sorted.filter((a) => a.id <= lastRestoredId).at(-1);
  const from = kept?.ackAt ?? Math.min(...lost.map((a) => a.ackAt));
  return { lastAckedId: last.id, lostRows: lost.length, windowMs: Math.max(...lost.map((a) => a.ackAt)) - from };
}

/**
 * What a Berth command ran, from its `--json --verbose` log (stderr): SSH round trips (host
 * scripts; `ssh -G` only reads the local config) and docker / compose CLI runs.
 */
export function countCommands(stderr: string): { trips: number; docker: number } {
  let trips = 0;
  let docker = 0;
  for (const l of stderr.split('\n')) {
    if (!l.startsWith('{')) continue;
    let e: { kind?: string; line?: string };
    try {
      e = JSON.parse(l) as typeof e;
    } catch {
      continue;
    }
    if (e.kind !== 'command' || typeof e.line !== 'string') continue;
    if (/^ssh /.test(e.line) && !/^ssh -G /.test(e.line)) trips++;
    else if (/^docker /.test(e.line)) docker++;
  }
  return { trips, docker };
}
