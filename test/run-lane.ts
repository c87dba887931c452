// One lane's run, started by test/run-e2e.ts under the lane's lock: sweep the lane's machines of
// what an earlier, killed run left (test/e2e/support/sweep.ts), then run its files one after
// another, each in its own `node --test`, in the order given. (`node --test a b c` sorts its files
// alphabetically, which undid the lane's "late" files: lanes.ts.) Ends with the lane's totals in
// the spec reporter's own words ("ℹ tests N" …, read by run-e2e.ts) and the seconds per file.
//
// A file that fails is run once more at the end of the lane, after another sweep: on a loaded
// 2-core machine a request can starve past its timeout while seven lanes share the cores. Its first
// failure stays in the output (run-e2e.ts repeats it) and the lane prints "retried: <file>", so a
// flake is reported, never hidden; a file that fails twice fails the lane. BERTH_E2E_RETRY=0 turns
// the second run off (to reproduce a flake).
//
//   node --import tsx test/run-lane.ts <lane> <file>…
import { spawn } from 'node:child_process';
import { LANES } from './e2e/lanes.ts';
import { sweepHosts } from './e2e/support/sweep.ts';

const COUNTED = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'] as const;
type Counts = Record<(typeof COUNTED)[number], number>;
const SUMMARY = /^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/;

/** The file's test process that runs now: a signal to the lane is passed on to it. */
let current: ReturnType<typeof spawn> | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => current?.kill(sig));

const zero = () => Object.fromEntries(COUNTED.map((k) => [k, 0])) as Counts;

/** One file in its own test process; its output passes through but for its summary lines, which are counted. */
function runFile(file: string): Promise<{ code: number; seconds: number; counts: Counts }> {
  const t0 = Date.now();
  const totals = zero();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    current = child;
    let buf = '';
    const line = (l: string) => {
      const m = SUMMARY.exec(l.trim());
      if (!m) return void process.stdout.write(`${l}\n`);
      if (m[1] !== 'duration_ms') totals[m[1] as keyof Counts] += Number(m[2]);
    };
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      lines.forEach(line);
    });
    child.stdout.on('end', () => buf && line(buf));
    child.on('close', (code) => resolve({ code: code ?? 1, seconds: (Date.now() - t0) / 1000, counts: totals }));
  });
}

function sweep(hosts: string[]) {
  try {
    for (const line of sweepHosts(hosts)) console.log(`sweep: ${line}`);
  } catch (e) {
    // A machine that cannot be reached is for the lane's own tests to report, with their context.
    console.log(`sweep: skipped (${(e as Error).message.split('\n')[0]})`);
  }
}

async function main() {
  const [laneName, ...files] = process.argv.slice(2);
  const lane = LANES.find((l) => l.name === laneName);
  if (!lane || !files.length) {
    console.error(`usage: run-lane.ts <lane> <file>… (lanes: ${LANES.map((l) => l.name).join(', ')})`);
    process.exit(2);
  }
  sweep(lane.hosts);
  const t0 = Date.now();
  const byFile = new Map<string, { code: number; seconds: number; counts: Counts }>();
  for (const file of files) {
    const r = await runFile(file);
    console.log(`— end of ${file} (${r.seconds.toFixed(0)} s, exit ${r.code})`);
    byFile.set(file, r);
  }
  const retried: string[] = [];
  if (process.env.BERTH_E2E_RETRY !== '0') {
    // A file that dies before its summary (a crash, a kill) has a non-zero exit too.
    for (const file of files.filter((f) => byFile.get(f)!.code !== 0)) {
      console.log(`retry: ${file} failed on its first run (its failing tests are above); sweeping and running it once more`);
      sweep(lane.hosts);
      const first = byFile.get(file)!;
      const r = await runFile(file);
      console.log(`— end of ${file} (second run, ${r.seconds.toFixed(0)} s, exit ${r.code})`);
      byFile.set(file, { ...r, seconds: first.seconds + r.seconds });
      if (r.code === 0) retried.push(file);
    }
  }
  const totals = zero();
  for (const r of byFile.values()) for (const k of COUNTED) totals[k] += r.counts[k];
  const failed = [...byFile.values()].some((r) => r.code !== 0);
  for (const f of retried) console.log(`retried: ${f} (failed on its first run, passed on its second)`);
  for (const k of COUNTED) console.log(`ℹ ${k} ${totals[k]}`);
  console.log(`ℹ duration_ms ${Date.now() - t0}`);
  console.log('\nseconds per file:');
  const times = [...byFile].map(([file, r]) => ({ file: file.replace(/^.*\/?test\/e2e\//, ''), seconds: r.seconds, tests: r.counts.tests }));
  for (const t of times.sort((a, b) => b.seconds - a.seconds)) console.log(`  ${t.seconds.toFixed(0).padStart(5)} s  ${t.file}  (${t.tests} tests)`);
  process.exit(failed ? 1 : 0);
}

await main();
