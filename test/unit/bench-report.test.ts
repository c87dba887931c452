// Bench report (pure): targets PASS/MISS, the table, README section replacement, argument parsing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Recorder } from '../../src/bench/record.ts';
import { formatTable, formatValue, judge } from '../../src/bench/report.ts';
import { parseBenchArgs, replacePerformanceSection } from '../../src/bench/run.ts';
import { baselineCompose } from '../../src/bench/scenarios/baselines.ts';
import { judgeProbe } from '../../src/bench/scenarios/long-lived.ts';
import YAML from 'yaml';

test('targets are judged on the statistic they name (failed requests on every run) and print PASS or MISS', () => {
  const rec = new Recorder();
  for (const v of [0, 0, 0]) rec.add('failed.berth.50', 'Berth: failed requests at 50/s', 'count', v);
  for (const v of [0, 3, 0]) rec.add('failed.berth.200', 'Berth: failed requests at 200/s', 'count', v);
  for (const v of [100, 120, 260]) rec.add('switch', 'Switch latency', 'ms', v);
  // Wall times on the median: one slow run of three does not fail the target, two do.
  for (const v of [1500, 1900, 9000]) rec.add('deploy.hot', 'Hot deploy', 'ms', v);
  for (const v of [450, 550, 600]) rec.add('rollback.hot', 'Rollback', 'ms', v);
  const verdicts = Object.fromEntries(judge(rec.metrics).map((v) => [v.key, v.pass]));
  assert.equal(verdicts['failed.berth.50'], true);
  assert.equal(verdicts['failed.berth.200'], false);
  assert.equal(verdicts['switch'], false, 'p95 = worst of three runs');
  assert.equal(verdicts['deploy.hot'], true, 'median 1.9 s ≤ 2 s');
  assert.equal(verdicts['rollback.hot'], false, 'median 0.55 s > 0.5 s');
  assert.equal(verdicts['deploy.noop'], undefined, 'not measured');
  const table = formatTable(rec.metrics, [{ label: 'backup:verify time', value: 'n/a (backup:verify not available)' }]);
  assert.match(table, /^\| metric \| n \| median \| p95 \| target \| result \|/);
  assert.match(table, /\| Berth: failed requests at 200\/s \| 3 \| 0 \| 3 \| 0 \| MISS \|/);
  assert.match(table, /\| Switch latency \| 3 \| 120 ms \| 260 ms \| p95 ≤ 250 ms, every run \| MISS \|/);
  assert.match(table, /n\/a \(backup:verify not available\)/);
  assert.ok(table.indexOf('failed requests at 50/s') < table.indexOf('Switch latency'), 'rows follow the fixed order');
});

test('values are formatted by unit', () => {
  assert.equal(formatValue(250.4, 'ms'), '250 ms');
  assert.equal(formatValue(2345, 'ms'), '2.35 s');
  assert.equal(formatValue(3, 'count'), '3');
  assert.equal(formatValue(NaN, 'ms'), 'n/a');
});

test('README: only the Performance section is replaced', () => {
  const readme = '# Berth\n\nintro\n\n## Tests\n\ntests\n\n## Performance\n\nold table\n';
  const out = replacePerformanceSection(readme, 'new table');
  assert.equal(out, '# Berth\n\nintro\n\n## Tests\n\ntests\n\n## Performance\n\nnew table\n');
  const middle = replacePerformanceSection('# B\n\n## Performance\n\nold\n\n## Later\n\nkeep\n', 'new');
  assert.equal(middle, '# B\n\n## Performance\n\nnew\n\n## Later\n\nkeep\n');
  assert.equal(replacePerformanceSection('# B\n', 'new'), '# B\n\n## Performance\n\nnew\n', 'created at the end when absent');
});

test('--quick, --only and --load are parsed strictly', () => {
  assert.deepEqual(parseBenchArgs([]), { quick: false, only: undefined, load: 0, help: false });
  assert.deepEqual(parseBenchArgs(['--quick', '--only', 'naive,overlap']), { quick: true, only: ['naive', 'overlap'], load: 0, help: false });
  assert.equal(parseBenchArgs(['--load', '2']).load, 2);
  for (const bad of ['x', '1.5', '99']) assert.throws(() => parseBenchArgs(['--load', bad]), /--load expects a whole number/);
  assert.throws(() => parseBenchArgs(['--only', 'nope']), /unknown scenario nope/);
  assert.throws(() => parseBenchArgs(['--fast']));
});

test('baselines route through the Docker provider with explicit labels on network berth', () => {
  const naive = YAML.parse(baselineCompose('naive'));
  assert.deepEqual(Object.keys(naive.services), ['web']);
  const labels = naive.services.web.labels;
  assert.equal(labels['traefik.enable'], 'true');
  assert.equal(labels['traefik.docker.network'], 'berth');
  assert.equal(labels['traefik.http.routers.bench-naive.rule'], 'Host(`bench-naive.berth.test`)');
  assert.equal(naive.services.web.image, 'berth/testapp:${TAG:-v1}');
  const overlap = YAML.parse(baselineCompose('overlap'));
  assert.deepEqual(Object.keys(overlap.services), ['web-blue', 'web-green']);
  assert.deepEqual(overlap.services['web-blue'].labels, overlap.services['web-green'].labels, 'one router and service shared by both colours');
});

test('long-lived: sockets closed before the window count as cut; close codes, asset 404s and the SSE end are summarized', () => {
  const r = judgeProbe([{ at: 900, code: 1001 }, { at: 1100, code: 1001 }, { at: 500, code: 1006 }, undefined], 1000, [200, 404, 0, 200], { at: 1200, clean: true });
  assert.deepEqual(r, { cut: 2, codes: { '1001': 2, '1006': 1, open: 1 }, asset404: 2, assets: 4, sseCut: false }, 'a 404 and no answer (0) both fail');
  assert.equal(judgeProbe([], 1000, [], { at: 1500, clean: false }).sseCut, true, 'an unclean end is a cut');
  assert.equal(judgeProbe([], 1000, [], { at: 999, clean: true }).sseCut, true, 'an early end is a cut');
});
