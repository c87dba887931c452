// The bench reports every full run of the same code (pure): pooled headline figures, every-run
// targets judged run by run, each run listed; and the counters its scenarios read from logs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acrossRuns, formatPerRunTable, formatRunList, type RunRecord, sameCode, type StoredMetric } from '../../src/bench/across-runs.ts';
import { countCommands } from '../../src/bench/analyze.ts';
import { formatTable } from '../../src/bench/report.ts';
import { countLtxFiles, DEFAULT_SYNC_INTERVAL } from '../../src/bench/scenarios/litestream.ts';

const machine = { cpu: 'cpu', cores: 2, memoryGiB: 24, kernel: '6', docker: '26', compose: '2', node: '20', date: '2026-12-07T00:00:00Z' };

function record(runId: string, metrics: Record<string, number[]>, extra: Partial<RunRecord> = {}): RunRecord {
  const labels: Record<string, [string, StoredMetric['unit']]> = {
    switch: ['Switch latency', 'ms'],
    'deploy.noop': ['No-op deploy wall time', 'ms'],
    'failed.berth.50': ['Berth: failed requests at 50/s', 'count'],
  };
  return {
    runId, codeId: 'abc', machine, full: true, load: 0, loadAverage: [1, 2], elapsedS: 600, errors: [], notes: [],
    metrics: Object.fromEntries(Object.entries(metrics).map(([k, values]) => [k, { label: labels[k]![0], unit: labels[k]![1], values }])),
    ...extra,
  };
}

test('headline figures pool every run: a good run does not hide a bad one', () => {
  const a = acrossRuns([record('r1', { 'deploy.noop': [400, 410, 420] }), record('r2', { 'deploy.noop': [600, 610, 620] })]);
  const m = a.pooled.get('deploy.noop')!;
  assert.equal(m.summary.n, 6);
  assert.equal(m.summary.median, 510, 'median over all six values');
  assert.equal(a.verdicts.find((v) => v.key === 'deploy.noop')!.pass, false, 'run 1 alone would pass; the pooled median does not');
  const table = formatTable(a.pooled, a.notes, a.verdicts);
  assert.match(table, /\| No-op deploy wall time \| 6 \| 510 ms \| 620 ms \| median ≤ 0\.5 s \| MISS \|/);
});

test('the switch p95 must hold on every run, not only on the pooled values', () => {
  const good = [...Array(19).fill(100), 240];
  const a = acrossRuns([record('r1', { switch: good }), record('r2', { switch: [100, 100, 300] })]);
  assert.ok(a.pooled.get('switch')!.summary.p95 <= 250, 'pooled p95 alone would pass');
  const v = a.verdicts.find((x) => x.key === 'switch')!;
  assert.equal(v.pass, false);
  assert.match(v.figure, /p95 per run 100 ms, 300 ms/);
  const one = acrossRuns([record('r1', { switch: good })]);
  assert.equal(one.verdicts.find((x) => x.key === 'switch')!.pass, true);
});

test('failed requests must be 0 in every run', () => {
  const a = acrossRuns([record('r1', { 'failed.berth.50': [0, 0] }), record('r2', { 'failed.berth.50': [0, 1] })]);
  assert.equal(a.verdicts.find((x) => x.key === 'failed.berth.50')!.pass, false);
});

test('only full runs of the same code and load level are pooled, oldest first', () => {
  const all = [
    record('2026-12-07T02', {}, {}),
    record('2026-12-07T01', {}, {}),
    record('2026-12-07T03', {}, { codeId: 'other' }),
    record('2026-12-07T04', {}, { load: 2 }),
    record('2026-12-07T05', {}, { full: false }),
  ];
  assert.deepEqual(sameCode(all, 'abc', 0).map((r) => r.runId), ['2026-12-07T01', '2026-12-07T02']);
  assert.deepEqual(sameCode(all, 'abc', 2).map((r) => r.runId), ['2026-12-07T04']);
});

test('each run is listed with its own figures and verdicts', () => {
  const a = acrossRuns([
    record('r1', { switch: [100, 120], 'deploy.noop': [300] }, { errors: ['litestream: boom'], notes: ['WebSocket close codes (Berth, run 1): 1001×20'] }),
    record('r2', { switch: [90, 400], 'deploy.noop': [350] }, { git: { head: '0123456789abcdef', dirty: true } }),
  ]);
  const t = formatPerRunTable(a);
  assert.match(t, /^\| metric \| target \| run 1 \| run 2 \|/);
  assert.match(t, /\| Switch latency \| p95 ≤ 250 ms, every run \| 110 ms \(p95 120 ms\) PASS \| 245 ms \(p95 400 ms\) MISS \|/);
  assert.match(t, /\| No-op deploy wall time \| median ≤ 0\.5 s \| 300 ms PASS \| 350 ms PASS \|/);
  const lines = formatRunList(a);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^1\. `r1` — 10\.0 min; no extra load started by the bench; 1-minute load average 1\.0–2\.0; .*1 scenario error\(s\): litestream: boom$/);
  assert.match(lines[1]!, /commit 0123456789 \+ uncommitted changes/);
  assert.deepEqual(a.notes, [{ label: 'WebSocket close codes (Berth, run 1) [run 1]', value: '1001×20' }]);
});

test('round trips and docker commands are counted from a --json --verbose log', () => {
  const log = [
    '{"kind":"step-start","name":"h1: observe"}',
    '{"kind":"command","line":"ssh -G -p 22 root@h"}',
    '{"kind":"command","line":"ssh -o BatchMode=yes root@h -- \'sh -c ...\'"}',
    '{"kind":"command","line":"docker --context c compose up -d web-blue"}',
    '{"kind":"command","line":"ssh -o BatchMode=yes root@h -- \'sh -c ...\'"}',
    'not json',
    '{"kind":"info","message":"ssh is fine"}',
  ].join('\n');
  assert.deepEqual(countCommands(log), { trips: 2, docker: 1 });
});

test('litestream: LTX listings are counted as a JSON array or one object per line; the default interval comes from the schema', () => {
  assert.equal(countLtxFiles('[{"a":1},{"a":2}]'), 2);
  assert.equal(countLtxFiles('{"a":1}\n{"a":2}\n{"a":3}\n'), 3);
  assert.equal(countLtxFiles(''), 0);
  assert.equal(DEFAULT_SYNC_INTERVAL, '1s');
});
