// Fleet bench figures (pure): the three/one ratio and its target, memory readings from docker stats
// and /proc, the process tree walk, and the outage probe's timing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { descendantsOf, parseMemUsageMiB, parsePpid, parseServiceMemory, ratioOfMedians, vmHwmMiB } from '../../src/bench/fleet-figures.ts';
import { firstAnswerAfterOutage } from '../../src/bench/outage.ts';
import { watchPeakRss } from '../../src/bench/proc-memory.ts';
import { Recorder } from '../../src/bench/record.ts';
import { formatTable, formatValue, judge } from '../../src/bench/report.ts';
import { parseBenchArgs } from '../../src/bench/run.ts';

test('ratio of medians: three-host over one-host wall times', () => {
  assert.equal(ratioOfMedians([9000, 6000, 7000], [4000, 5000, 4500]), 7000 / 4500);
  assert.equal(ratioOfMedians([6000, 8000], [4000]), 7000 / 4000, 'even count: mean of the middle two');
  assert.equal(ratioOfMedians([6000, NaN], [3000]), 2, 'non-finite values are ignored');
  assert.equal(ratioOfMedians([], [4000]), undefined);
  assert.equal(ratioOfMedians([4000], []), undefined);
  assert.equal(ratioOfMedians([4000], [0]), undefined);
});

test('fleet targets: ratio ≤ 1.5 and no failed request; MiB and ratio are formatted', () => {
  const rec = new Recorder();
  rec.add('fleet.ratio', 'Three-host / one-host', 'ratio', 1.62);
  rec.add('failed.fleet.one', 'failed, one host', 'count', 0);
  for (const v of [0, 2]) rec.add('failed.fleet.three', 'failed, three hosts', 'count', v);
  rec.add('memory.cli.one', 'Berth CLI peak RSS', 'MiB', 152.25);
  const v = Object.fromEntries(judge(rec.metrics).map((x) => [x.key, x.pass]));
  assert.equal(v['fleet.ratio'], false);
  assert.equal(v['failed.fleet.one'], true);
  assert.equal(v['failed.fleet.three'], false);
  const ok = new Recorder();
  ok.add('fleet.ratio', 'Three-host / one-host', 'ratio', 1.5);
  assert.equal(judge(ok.metrics).find((x) => x.key === 'fleet.ratio')!.pass, true, '1.5 itself passes');
  assert.equal(formatValue(1.234, 'ratio'), '1.23×');
  assert.equal(formatValue(152.25, 'MiB'), '152.3 MiB');
  const table = formatTable(rec.metrics);
  assert.match(table, /\| Three-host \/ one-host \| 1 \| 1\.62× \| 1\.62× \| ≤ 1\.5 \| MISS \|/);
  assert.match(table, /\| Berth CLI peak RSS \| 1 \| 152\.3 MiB \| 152\.3 MiB \| {2}\| {2}\|/);
});

test('the fleet scenarios are known to --only', () => {
  assert.deepEqual(parseBenchArgs(['--only', 'fleet-rolling,host-restart,memory']).only, ['fleet-rolling', 'host-restart', 'memory']);
});

test('docker stats MemUsage → MiB used', () => {
  assert.equal(parseMemUsageMiB('21.48MiB / 23.54GiB'), 21.48);
  assert.equal(parseMemUsageMiB('512KiB / 1GiB'), 0.5);
  assert.equal(parseMemUsageMiB('1.5GiB / 4GiB'), 1536);
  assert.equal(parseMemUsageMiB('0B / 0B'), 0);
  assert.equal(parseMemUsageMiB('2MB / 1GB'), 2e6 / 2 ** 20);
  assert.equal(parseMemUsageMiB('--'), undefined);
  assert.equal(parseMemUsageMiB('12 parsecs / 1GiB'), undefined);
  assert.deepEqual(
    parseServiceMemory('1eb66ead1d76\ttraefik\t21.48MiB / 23.54GiB\nb8ce4f65c714\tsocket-proxy\t8.918MiB / 23.54GiB\nabc\tbroken\t--\n\n'),
    { traefik: 21.48, 'socket-proxy': 8.918 },
  );
});

test('/proc readings: VmHWM in MiB, the parent pid, descendants of a pid', () => {
  assert.equal(vmHwmMiB('Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t  153600 kB\nVmRSS:\t  100000 kB\n'), 150);
  assert.equal(vmHwmMiB('Name:\tkworker\n'), undefined);
  assert.equal(parsePpid('4242 (node) S 4200 4242 4200 0 -1'), 4200);
  assert.equal(parsePpid('77 (we ird) (name) R 12 77 1'), 12, 'a command name with spaces and parentheses');
  assert.equal(parsePpid('garbage'), undefined);
  const parents = new Map([[10, 1], [11, 10], [12, 11], [13, 10], [20, 1], [21, 20]]);
  assert.deepEqual(descendantsOf(10, parents).sort(), [11, 12, 13]);
  assert.deepEqual(descendantsOf(12, parents), []);
});

/** A probe that answers by the time it starts at: up, then down from `upUntil`, then up again from `downUntil`. */
function scripted(upUntil: number, downUntil: number) {
  const t0 = Date.now();
  return () => new Promise<boolean>((r) => {
    const at = Date.now() - t0;
    setTimeout(() => r(at < upUntil || at >= downUntil), 5);
  });
}

test('outage probe: first good answer started after the first failure, timed from the probe start', async () => {
  const t0 = Date.now();
  const r = await firstAnswerAfterOutage(scripted(120, 400), { intervalMs: 20, timeoutMs: 5000 });
  assert.ok(r.downAt - t0 >= 120 && r.downAt - t0 < 400, `down at ${r.downAt - t0}`);
  assert.ok(r.upAt - t0 >= 400 && r.upAt - t0 < 1000, `up at ${r.upAt - t0}`);
  assert.ok(r.upAt > r.downAt);
  assert.ok(r.probes >= 10 && r.probes < 60, `${r.probes} probes`);
});

test('outage probe: bounded when the app never goes down or never comes back, and abortable', async () => {
  await assert.rejects(firstAnswerAfterOutage(async () => true, { intervalMs: 10, timeoutMs: 100 }), /never stopped answering/);
  await assert.rejects(firstAnswerAfterOutage(async () => false, { intervalMs: 10, timeoutMs: 100 }), /no good answer within 100 ms/);
  const abort = new AbortController();
  const p = firstAnswerAfterOutage(async () => true, { intervalMs: 10, timeoutMs: 60_000, signal: abort.signal });
  setTimeout(() => abort.abort(), 30);
  await assert.rejects(p, /aborted/);
});

test('peak RSS of the Node processes in a tree (not the shell that starts them), read from /proc while they run', async () => {
  // sh (not Node: not counted) starts node, which holds 80 MiB for a moment and exits.
  const js = 'const b = Buffer.alloc(80 * 2 ** 20, 1); setTimeout(() => b.length, 400)';
  const child = spawn('sh', ['-c', `"${process.execPath}" -e '${js}'; true`], { stdio: 'ignore' });
  const watch = watchPeakRss(child.pid!, 20);
  await new Promise((r) => child.on('close', r));
  const peak = watch.stop();
  assert.ok(peak.peakMiB !== undefined && peak.peakMiB >= 80 && peak.peakMiB < 400, `peak ${peak.peakMiB} MiB`);
  assert.equal(Object.keys(peak.byPid).length, 1, 'only the node process, not sh');
});
