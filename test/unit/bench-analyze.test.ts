// Bench analysis (pure): statistics, failures, the mixed-version window, SSH counting, Litestream's window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeRun, countAcceptedConnections, dataLossWindow, isFailure } from '../../src/bench/analyze.ts';
import { median, percentile, summarize } from '../../src/bench/stats.ts';
import type { LoadSample } from '../../src/sandbox/load.ts';

let seq = 0;
const s = (startedAt: number, latencyMs: number, status: number, release?: string, kind = 'get'): LoadSample => ({
  seq: seq++, kind, method: 'GET', path: '/', startedAt, offsetMs: 0, status, latencyMs, release,
});

test('median and nearest-rank p95', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(percentile([1, 2, 3], 95), 3, 'with few runs p95 is the worst run');
  assert.equal(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95), 95);
  assert.deepEqual(summarize([]).n, 0);
  assert.ok(Number.isNaN(summarize([]).median));
  assert.deepEqual(summarize([5, NaN, 1]), { n: 2, median: 3, p95: 5, min: 1, max: 5 });
});

test('a failure is no response or any non-2xx status', () => {
  for (const [status, failed] of [[0, true], [200, false], [201, false], [301, true], [404, true], [502, true]] as const) {
    assert.equal(isFailure({ status }), failed, String(status));
  }
});

test('mixed-version window by request start and by completion', () => {
  const samples = [
    s(1000, 10, 200, 'v1'),
    s(1000, 1500, 200, 'v1', 'slow'), // in flight across the switch: drained by the old colour
    s(1100, 10, 200, 'v2'), // first new answer completes at 1110
    s(1120, 10, 200, 'v1'), // started after 1110, answered by the old release
    s(1150, 10, 200, 'v2'),
    s(1160, 5, 502),
  ];
  const a = analyzeRun(samples, 'v1', 'v2', 900);
  assert.equal(a.failed, 1);
  assert.equal(a.skipped, 0);
  assert.deepEqual(a.failedByStatus, { '502': 1 });
  assert.equal(a.firstNewAnswerAt, 1110);
  assert.equal(a.mixed.byStartMs, 10);
  assert.equal(a.mixed.byStartCount, 1);
  assert.equal(a.mixed.byCompletionMs, 2500 - 1110);
  assert.equal(a.mixed.byCompletionFastMs, 1130 - 1110);
  assert.equal(a.readyToServingMs, 1110 - 900);
  assert.deepEqual(a.releaseCounts, { v1: 3, v2: 2 });
});

test('a request the generator never sent (in-flight cap) is a failure, also counted as skipped', () => {
  const a = analyzeRun([s(0, 5, 200, 'v1'), { ...s(5, 0, 0), error: 'skipped: 400 requests in flight' }, { ...s(6, 3000, 0), error: 'timeout' }], 'v1', 'v2');
  assert.equal(a.failed, 2);
  assert.equal(a.skipped, 1);
});

test('an atomic switch has no mixed window by start; no new answer means no window', () => {
  const clean = analyzeRun([s(0, 5, 200, 'v1'), s(10, 5, 200, 'v2'), s(20, 5, 200, 'v2')], 'v1', 'v2');
  assert.deepEqual(clean.mixed, { byStartMs: 0, byStartCount: 0, byCompletionMs: 0, byCompletionFastMs: 0 });
  assert.equal(clean.readyToServingMs, undefined);
  const none = analyzeRun([s(0, 5, 200, 'v1')], 'v1', 'v2', 0);
  assert.equal(none.firstNewAnswerAt, undefined);
  assert.equal(none.mixed.byStartMs, 0);
});

test('SSH connections are counted from sshd "Accepted publickey" lines', () => {
  const log = [
    'Connection from 127.0.0.1 port 5000 on 127.0.0.1 port 2222 rdomain ""',
    'Accepted publickey for root from 127.0.0.1 port 5000 ssh2: ED25519 SHA256:abc',
    'Starting session: command for root from 127.0.0.1 port 5000 id 0',
    'Accepted publickey for root from 127.0.0.1 port 5002 ssh2: ED25519 SHA256:abc',
  ].join('\n');
  assert.equal(countAcceptedConnections(log), 2);
  assert.equal(countAcceptedConnections(''), 0);
});

test('Litestream data-loss window: acknowledged rows missing from the restore', () => {
  const acks = [1, 2, 3, 4, 5].map((id) => ({ id, ackAt: 1000 + id * 10 }));
  assert.deepEqual(dataLossWindow(acks, 5), { lastAckedId: 5, lostRows: 0, windowMs: 0 });
  assert.deepEqual(dataLossWindow(acks, 7), { lastAckedId: 5, lostRows: 0, windowMs: 0 }, 'unacknowledged rows may survive');
  assert.deepEqual(dataLossWindow(acks, 3), { lastAckedId: 5, lostRows: 2, windowMs: 20 });
  assert.deepEqual(dataLossWindow([], 0), { lastAckedId: 0, lostRows: 0, windowMs: 0 });
});

test('ready-to-serving counts the first new answer after the container turned healthy', () => {
  const a = analyzeRun([s(0, 10, 200, 'v2'), s(500, 10, 404), s(1000, 20, 200, 'v2')], 'v1', 'v2', 800);
  assert.equal(a.readyToServingMs, 1020 - 800);
});
