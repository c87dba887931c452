// Bounded, constant-rate load loops for zero-downtime checks: every request is recorded.
import http from 'node:http';
import https from 'node:https';
import { sandboxRequest, type SandboxRequestOptions } from './http.ts';

export interface LoadMixEntry {
  /** Label in the samples, e.g. 'get', 'post', 'slow'. */
  kind: string;
  /** Relative weight in the mix (integer ≥ 1). */
  weight: number;
  method?: string;
  /** Path (with query) appended to the base URL, e.g. '/slow?ms=1500'. */
  path?: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface LoadOptions {
  /** Base URL, e.g. https://app.berth.test (test domains resolve to the sandbox host). */
  url: string | URL;
  /** Requests started per second (open loop: a slow response does not delay the next start). */
  ratePerSec: number;
  /** Stop after this many requests have been started. */
  maxRequests: number;
  /** Stop starting requests after this long; in-flight ones are awaited (bounded by timeoutMs). */
  maxDurationMs: number;
  /** Reuse connections (HTTP keep-alive) or open one per request (default false). */
  keepAlive?: boolean;
  /** Weighted request mix; default a single GET of the base URL. Chosen round-robin by weight (deterministic). */
  mix?: LoadMixEntry[];
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Upper bound on concurrent in-flight requests (default 200); a start that would exceed it is recorded as skipped. */
  maxInFlight?: number;
  /** Passed through to sandboxRequest (e.g. resolveTo, ca). */
  request?: Pick<SandboxRequestOptions, 'resolveTo' | 'ca'>;
  /** Response header whose value is recorded as the release (default 'x-release'). */
  releaseHeader?: string;
}

export interface LoadSample {
  seq: number;
  kind: string;
  method: string;
  path: string;
  /** Wall clock start (ms since epoch) and offset from the loop's start. */
  startedAt: number;
  offsetMs: number;
  /** HTTP status; 0 when the request failed without a response (connection error, timeout, skipped). */
  status: number;
  latencyMs: number;
  release?: string;
  error?: string;
}

export interface LoadResult {
  samples: LoadSample[];
  startedAt: number;
  durationMs: number;
  /** Samples with status 0 or ≥ 500. */
  failures: LoadSample[];
  statusCounts: Record<string, number>;
  releaseCounts: Record<string, number>;
  /** Latency percentiles over responses (ms). */
  latency: { p50: number; p95: number; p99: number; max: number };
}

export interface LoadHandle {
  /** Stop starting new requests (in-flight ones finish). */
  stop(): void;
  done: Promise<LoadResult>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Pick mix entries round-robin by weight: weights [3,1] → a a a b a a a b … */
export function planMix(mix: LoadMixEntry[], n: number): LoadMixEntry[] {
  const cycle = mix.flatMap((m) => Array.from({ length: Math.max(1, Math.floor(m.weight)) }, () => m));
  return Array.from({ length: n }, (_, i) => cycle[i % cycle.length]!);
}

export function summarize(samples: LoadSample[], startedAt: number, durationMs: number): LoadResult {
  const statusCounts: Record<string, number> = {};
  const releaseCounts: Record<string, number> = {};
  for (const s of samples) {
    statusCounts[String(s.status)] = (statusCounts[String(s.status)] ?? 0) + 1;
    if (s.release) releaseCounts[s.release] = (releaseCounts[s.release] ?? 0) + 1;
  }
  const lat = samples.filter((s) => s.status > 0).map((s) => s.latencyMs).sort((a, b) => a - b);
  return {
    samples,
    startedAt,
    durationMs,
    failures: samples.filter((s) => s.status === 0 || s.status >= 500),
    statusCounts,
    releaseCounts,
    latency: { p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99), max: lat.at(-1) ?? 0 },
  };
}

/** Start a load loop in the background; `await handle.done` for the result. */
export function startLoad(opts: LoadOptions): LoadHandle {
  if (!(opts.ratePerSec > 0) || !(opts.maxRequests > 0) || !(opts.maxDurationMs > 0)) {
    throw new Error('startLoad: ratePerSec, maxRequests and maxDurationMs must be > 0');
  }
  const base = new URL(opts.url);
  const isHttps = base.protocol === 'https:';
  const mix = planMix(opts.mix ?? [{ kind: 'get', weight: 1, method: 'GET', path: base.pathname + base.search }], opts.maxRequests);
  // One agent per loop. Keep-alive off still opens a new TCP (+ TLS) connection per request; the
  // agent's TLS session cache makes those handshakes resumptions, as a browser's would be, so the
  // client is not the bottleneck at 200 req/s on two cores.
  const agentOpts = opts.keepAlive ? { keepAlive: true, maxSockets: 64 } : { keepAlive: false, maxSockets: Infinity };
  const agent = isHttps ? new https.Agent({ ...agentOpts, maxCachedSessions: 100 }) : new http.Agent(agentOpts);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxInFlight = opts.maxInFlight ?? 200;
  const header = (opts.releaseHeader ?? 'x-release').toLowerCase();
  const intervalMs = 1000 / opts.ratePerSec;
  const samples: LoadSample[] = [];
  const inflight = new Set<Promise<void>>();
  let stopped = false;
  const startedAt = Date.now();
  const t0 = performance.now();

  const one = async (seq: number, m: LoadMixEntry): Promise<void> => {
    const path = m.path ?? '/';
    const method = m.method ?? (m.body !== undefined ? 'POST' : 'GET');
    const offsetMs = performance.now() - t0;
    const sample: LoadSample = { seq, kind: m.kind, method, path, startedAt: Date.now(), offsetMs, status: 0, latencyMs: 0 };
    samples.push(sample);
    const ts = performance.now();
    try {
      const r = await sandboxRequest(new URL(path, base), {
        ...opts.request,
        method,
        body: m.body,
        headers: { ...(m.body !== undefined ? { 'content-type': 'application/json' } : {}), ...m.headers },
        agent,
        timeoutMs,
      });
      sample.status = r.status;
      const rel = r.headers[header];
      if (rel) sample.release = Array.isArray(rel) ? rel.join(',') : rel;
    } catch (e) {
      sample.error = (e as Error).message;
    }
    sample.latencyMs = performance.now() - ts;
  };

  const done = (async () => {
    for (let seq = 0; seq < opts.maxRequests && !stopped; seq++) {
      const due = seq * intervalMs;
      const now = performance.now() - t0;
      if (due > opts.maxDurationMs || now > opts.maxDurationMs) break;
      if (due > now) await new Promise((r) => setTimeout(r, due - now));
      if (stopped) break;
      if (inflight.size >= maxInFlight) {
        samples.push({ seq, kind: mix[seq]!.kind, method: mix[seq]!.method ?? 'GET', path: mix[seq]!.path ?? '/', startedAt: Date.now(),
          offsetMs: performance.now() - t0, status: 0, latencyMs: 0, error: `skipped: ${maxInFlight} requests in flight` });
        continue;
      }
      const p = one(seq, mix[seq]!).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.all(inflight);
    agent.destroy();
    samples.sort((a, b) => a.seq - b.seq);
    return summarize(samples, startedAt, performance.now() - t0);
  })();
  return { stop: () => void (stopped = true), done };
}

/** Run a load loop to completion (count- and time-bounded). */
export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  return startLoad(opts).done;
}
