// Runs the end-to-end files lane by lane (test/e2e/lanes.ts): lanes side by side, each lane's files
// one after another by test/run-lane.ts, which holds the lane's lock (flock) so a second checkout
// running the same lane waits instead of sharing its machines, and first sweeps the lane's machines
// of apps a killed run left behind. Every output line carries its lane; each lane's failing tests
// and a summary per lane (tests, pass, fail, seconds) end the run; exit 1 if any lane failed.
//
//   node --import tsx test/run-e2e.ts                      every lane
//   node --import tsx test/run-e2e.ts --lane swarm         one lane (repeatable)
//   node --import tsx test/run-e2e.ts test/e2e/fleet.test.ts   these files, each in its own lane
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { LANES, laneLockFile, laneOf, laneOrder } from './e2e/lanes.ts';
import { SANDBOX_CACHE_DIR } from '../src/sandbox/config.ts';

// Every lane's whole output also goes to a file outside the clone, so a CI run whose console
// was cut to its tail can still be read in full afterwards.
const LOG_DIR = join(SANDBOX_CACHE_DIR, 'e2e-logs');

const E2E_DIR = join(import.meta.dirname, 'e2e');
const ROOT = join(import.meta.dirname, '..');

interface LaneResult {
  lane: string;
  code: number;
  seconds: number;
  counts: Record<string, number>;
  /** The spec reporter's "failing tests" section, repeated after the summary so a CI log's tail names them. */
  failures: string[];
  /** Files that failed once and passed when the lane ran them again (test/run-lane.ts). */
  retried: string[];
}

function selectFiles(args: string[], lanes: string[]): Map<string, string[]> {
  const all = args.length
    ? args.map((f) => relative(ROOT, join(process.cwd(), f)))
    : readdirSync(E2E_DIR).filter((f) => f.endsWith('.test.ts')).sort().map((f) => `test/e2e/${f}`);
  const byLane = new Map<string, string[]>();
  for (const f of all) {
    const lane = laneOf(f).name;
    if (lanes.length && !lanes.includes(lane)) continue;
    byLane.set(lane, [...(byLane.get(lane) ?? []), f]);
  }
  for (const [lane, files] of byLane) byLane.set(lane, laneOrder(LANES.find((l) => l.name === lane)!, files));
  return byLane;
}

function runLane(lane: string, files: string[]): Promise<LaneResult> {
  return runPrefixed(lane, ['flock', laneLockFile(lane), process.execPath, '--import', 'tsx', 'test/run-lane.ts', lane, ...files]);
}

function runPrefixed(lane: string, argv: string[]): Promise<LaneResult> {
  const t0 = Date.now();
  const counts: Record<string, number> = {};
  const failures: string[] = [];
  const retried: string[] = [];
  let inFailures = false;
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env: { ...process.env, BERTH_LANE: lane }, stdio: ['ignore', 'pipe', 'pipe'] });
    const prefix = `[${lane}] `;
    mkdirSync(LOG_DIR, { recursive: true });
    const log = createWriteStream(join(LOG_DIR, `${lane}.log`));
    const pipe = (stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) => {
      let buf = '';
      stream.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const line of lines) {
          // The spec reporter's closing summary: "ℹ tests 12", "ℹ pass 12", "ℹ fail 0" …
          const m = /^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line.trim());
          if (m) counts[m[1]!] = Number(m[2]);
          const again = /^retried: (\S+)/.exec(line);
          if (again) retried.push(again[1]!.replace('test/e2e/', ''));
          if (/^✖ failing tests:/.test(line.trim())) inFailures = true;
          else if (inFailures && /^(ℹ|— end of )/.test(line.trim())) inFailures = false;
          if (inFailures && failures.length < 40) failures.push(line);
          out.write(prefix + line + '\n');
          log.write(line + '\n');
        }
      });
      stream.on('end', () => {
        if (buf) out.write(prefix + buf + '\n');
      });
    };
    pipe(child.stdout, process.stdout);
    pipe(child.stderr, process.stderr);
    child.on('close', (code) => log.end(() => resolve({ lane, code: code ?? 1, seconds: (Date.now() - t0) / 1000, counts, failures, retried })));
  });
}

async function main() {
  const { values, positionals } = parseArgs({ options: { lane: { type: 'string', multiple: true } }, allowPositionals: true, strict: true });
  const lanes = values.lane ?? [];
  for (const l of lanes) {
    if (!LANES.some((x) => x.name === l)) {
      console.error(`unknown lane ${JSON.stringify(l)}; lanes: ${LANES.map((x) => x.name).join(', ')}`);
      process.exit(2);
    }
  }
  const byLane = selectFiles(positionals, lanes);
  if (!byLane.size) {
    console.error('no end-to-end files selected');
    process.exit(2);
  }
  for (const [lane, files] of byLane) console.log(`[${lane}] ${files.length} file(s): ${files.map((f) => f.replace('test/e2e/', '')).join(' ')}`);
  const t0 = Date.now();
  const results = await Promise.all([...byLane].map(([lane, files]) => runLane(lane, files)));
  for (const r of results.filter((x) => x.failures.length)) {
    const when = r.code === 0 ? ' (their files passed when run again)' : '';
    console.log(`\n[${r.lane}] failing tests${when} (first ${r.failures.length} lines):`);
    for (const line of r.failures) console.log(`[${r.lane}] ${line}`);
  }
  console.log(`\nend-to-end lanes (whole logs in ${LOG_DIR}):`);
  for (const r of results) {
    const c = r.counts;
    console.log(`  ${r.lane.padEnd(9)} ${r.code === 0 ? 'ok    ' : 'FAILED'} tests ${c.tests ?? '?'} pass ${c.pass ?? '?'} fail ${c.fail ?? '?'} cancelled ${c.cancelled ?? 0} in ${r.seconds.toFixed(0)} s${r.retried.length ? `; passed on a second run: ${r.retried.join(', ')}` : ''}`);
  }
  const total = (k: string) => results.reduce((n, r) => n + (r.counts[k] ?? 0), 0);
  console.log(`  all       tests ${total('tests')} pass ${total('pass')} fail ${total('fail')} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
}

await main();
