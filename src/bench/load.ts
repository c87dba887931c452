// The bench's load loop: the same open-loop, constant-rate, bounded design and sample format as
// src/sandbox/load.ts, tuned so the client is not the bottleneck at 200 req/s on a 2-core machine:
// one TLS context built once (sandboxRequest builds one per request from the CA bundle) and one
// agent per loop. Keep-alive off still opens a new TCP + TLS connection for every request; the
// agent's TLS session cache makes those handshakes resumptions, as a browser's would be.
import https from 'node:https';
import tls from 'node:tls';
import { fixedLookup, sandboxCaBundle } from '../sandbox/http.ts';
import { planMix, summarize, type LoadMixEntry, type LoadResult, type LoadSample } from '../sandbox/load.ts';

export interface BenchLoadOptions {
  url: string;
  ratePerSec: number;
  maxRequests: number;
  maxDurationMs: number;
  keepAlive: boolean;
  mix: LoadMixEntry[];
  timeoutMs: number;
  maxInFlight: number;
}

let secureContext: tls.SecureContext | undefined;

export function startBenchLoad(opts: BenchLoadOptions): { stop(): void; done: Promise<LoadResult> } {
  const base = new URL(opts.url);
  if (base.protocol !== 'https:') throw new Error('bench load is HTTPS only');
  secureContext ??= tls.createSecureContext({ ca: sandboxCaBundle() });
  const agent = new https.Agent({ keepAlive: opts.keepAlive, maxSockets: opts.keepAlive ? 64 : Infinity, maxCachedSessions: 100 });
  const lookup = fixedLookup('127.0.0.1');
  const mix = planMix(opts.mix, opts.maxRequests);
  const intervalMs = 1000 / opts.ratePerSec;
  const samples: LoadSample[] = [];
  const inflight = new Set<Promise<void>>();
  let stopped = false;
  const startedAt = Date.now();
  const t0 = performance.now();

  const one = (seq: number, m: LoadMixEntry) =>
    new Promise<void>((resolve) => {
      const method = m.method ?? 'GET';
      const sample: LoadSample = { seq, kind: m.kind, method, path: m.path ?? '/', startedAt: Date.now(), offsetMs: performance.now() - t0, status: 0, latencyMs: 0 };
      samples.push(sample);
      const ts = performance.now();
      const finish = (err?: Error) => {
        if (sample.latencyMs) return;
        if (err) sample.error = err.message;
        sample.latencyMs = performance.now() - ts;
        resolve();
      };
      const req = https.request(new URL(m.path ?? '/', base), {
        method, agent, lookup, secureContext, servername: base.hostname, timeout: opts.timeoutMs,
        headers: m.body !== undefined ? { 'content-type': 'application/json' } : {},
      } as https.RequestOptions & tls.ConnectionOptions, (res) => {
        sample.status = res.statusCode ?? 0;
        const rel = res.headers['x-release'];
        if (rel) sample.release = Array.isArray(rel) ? rel.join(',') : rel;
        res.on('data', () => undefined);
        res.on('end', () => finish());
        res.on('error', (e) => {
          sample.status = 0;
          finish(e);
        });
      });
      req.on('timeout', () => req.destroy(new Error(`timeout after ${opts.timeoutMs} ms`)));
      req.on('error', (e) => {
        sample.status = 0;
        finish(e);
      });
      req.end(m.body);
    });

  const done = (async () => {
    for (let seq = 0; seq < opts.maxRequests && !stopped; seq++) {
      const due = seq * intervalMs;
      const now = performance.now() - t0;
      if (due > opts.maxDurationMs || now > opts.maxDurationMs) break;
      if (due > now) await new Promise((r) => setTimeout(r, due - now));
      if (stopped) break;
      const m = mix[seq]!;
      if (inflight.size >= opts.maxInFlight) {
        samples.push({ seq, kind: m.kind, method: m.method ?? 'GET', path: m.path ?? '/', startedAt: Date.now(), offsetMs: performance.now() - t0, status: 0, latencyMs: 0, error: `skipped: ${opts.maxInFlight} requests in flight` });
        continue;
      }
      const p = one(seq, m).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.all(inflight);
    agent.destroy();
    samples.sort((a, b) => a.seq - b.seq);
    return summarize(samples, startedAt, performance.now() - t0);
  })();
  return { stop: () => void (stopped = true), done };
}
