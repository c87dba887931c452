// `npm run bench [-- --quick] [-- --only <scenario>[,<scenario>…]]`: runs the scenarios on the
// sandbox host, prints figures with targets, writes raw data to bench/results/raw/<run>/ and, for
// a full run, bench/results/latest.{json,md} and README's "## Performance" section.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseFlags } from '../cli/args.ts';
import { UsageError } from '../errors.ts';
import { REPO_ROOT } from '../sandbox/paths.ts';
import { makeContext, type BenchContext } from './context.ts';
import { H1, H2, H3, refreshTestImages } from './env.ts';
import { LoadSampler, startCpuLoad } from './cpu-load.ts';
import { Recorder } from './record.ts';
import { runSteps } from './steps.ts';
import { DEFINITIONS, formatMachine, formatTable, judge, type MachineInfo } from './report.ts';
import { runBaseline } from './scenarios/baselines.ts';
import { berthDeploys, berthRollback, berthUnderLoad, setupBerth, type BerthBench } from './scenarios/berth.ts';
import { runBackupVerify } from './scenarios/backup-verify.ts';
import { runLitestream } from './scenarios/litestream.ts';
import { runLongLived } from './scenarios/long-lived.ts';
import { fleetMemory, fleetRolling, hostRestart, setupFleet, type FleetBench } from './scenarios/fleet.ts';

export const SCENARIOS = [
  'deploys', 'berth-load', 'rollback', 'naive', 'overlap', 'long-lived', 'litestream', 'backup-verify', 'host-restart', 'fleet-rolling', 'memory',
] as const;
type Scenario = (typeof SCENARIOS)[number];
const NEEDS_BERTH: Scenario[] = ['deploys', 'berth-load', 'rollback'];
const NEEDS_FLEET: Scenario[] = ['fleet-rolling', 'memory'];

const USAGE = `usage: npm run bench [-- --quick] [-- --only <name>[,<name>…]] [-- --load <n>]
scenarios: ${SCENARIOS.join(', ')}
  --quick   fewer repetitions (1–2 per case)
  --only    run only these scenarios (latest.* and README are written by full runs only)
  --load    keep n busy processes running beside the bench (results also go to latest-loaded.*)`;

export function parseBenchArgs(argv: string[]): { quick: boolean; only: Scenario[] | undefined; load: number; help: boolean } {
  const { values } = parseFlags(argv, { quick: { type: 'boolean' }, only: { type: 'string' }, load: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, USAGE, { max: 0 });
  const load = values.load === undefined ? 0 : Number(values.load);
  if (!Number.isInteger(load) || load < 0 || load > 16) throw new UsageError(`--load expects a whole number of busy processes from 0 to 16, got "${values.load}"`, USAGE);
  let only: Scenario[] | undefined;
  if (values.only) {
    only = values.only.split(',').map((s) => s.trim()).filter(Boolean) as Scenario[];
    const bad = only.filter((s) => !SCENARIOS.includes(s));
    if (bad.length) throw new UsageError(`--only: unknown scenario ${bad.join(', ')} (scenarios: ${SCENARIOS.join(', ')})`, USAGE);
  }
  return { quick: !!values.quick, only, load, help: !!values.help };
}

function sh(argv: string[]): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 20_000 }).trim();
  } catch {
    return 'unknown';
  }
}

export function machineInfo(): MachineInfo {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: os.totalmem() / 2 ** 30,
    kernel: os.release(),
    docker: sh(['docker', 'version', '--format', '{{.Server.Version}}']),
    compose: sh(['docker', 'compose', 'version', '--short']),
    node: process.versions.node,
    date: new Date().toISOString(),
  };
}

/** Replace README's "## Performance" section (up to the next "## " heading) with `body`. */
export function replacePerformanceSection(readme: string, body: string): string {
  const heading = '## Performance';
  const start = readme.search(/^## Performance[ \t]*$/m);
  const section = `${heading}\n\n${body.trim()}\n`;
  if (start < 0) return `${readme.trimEnd()}\n\n${section}`;
  const rest = readme.slice(start + heading.length);
  const nextRel = rest.search(/^## /m);
  const after = nextRel < 0 ? '' : `\n${rest.slice(nextRel)}`;
  return `${readme.slice(0, start)}${section}${after}`;
}

const metricsOf = (rec: Recorder) =>
  Object.fromEntries([...rec.metrics].map(([k, m]) => [k, { label: m.label, unit: m.unit, ...m.summary, values: m.values, notes: m.notes }]));

export async function benchMain(argv: string[]): Promise<number> {
  const args = parseBenchArgs(argv);
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const todo = SCENARIOS.filter((s) => !args.only || args.only.includes(s));
  const full = !args.only && !args.quick;
  const runId = new Date().toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(REPO_ROOT, 'bench', 'results');
  const rec = new Recorder();
  const ctx = makeContext(rec, args.quick, join(resultsDir, 'raw', runId));
  const machine = machineInfo();
  const loadAvg = new LoadSampler();
  loadAvg.sample();
  const cpuLoad = args.load ? startCpuLoad(args.load) : undefined;
  const sampler = setInterval(() => loadAvg.sample(), 10_000);
  sampler.unref();
  const t0 = performance.now();
  ctx.log(`machine: ${formatMachine(machine)}`);
  ctx.log(`scenarios: ${todo.join(', ')}${args.quick ? ' (quick)' : ''}`);
  let berth: BerthBench | undefined;
  const needBerth = (fn: (c: BenchContext, b: BerthBench) => Promise<void>) => async () => {
    if (!berth) throw new Error('the Berth app could not be set up (see berth-setup)');
    await fn(ctx, berth);
  };
  let fleet: FleetBench | undefined;
  const needFleet = (fn: (c: BenchContext, f: FleetBench) => Promise<void>) => async () => {
    if (!fleet) throw new Error('the fleet apps could not be set up (see fleet-setup)');
    await fn(ctx, fleet);
  };
  const all: { name: Scenario | 'berth-setup' | 'fleet-setup' | 'host-images'; run: () => Promise<void> }[] = [
    { name: 'host-images', run: async () => ctx.log(`test app images: ${await refreshTestImages([H1, H2, H3])}`) },
    ...(todo.some((s) => NEEDS_BERTH.includes(s)) ? [{ name: 'berth-setup' as const, run: async () => void (berth = await setupBerth(ctx, todo.includes('rollback'))) }] : []),
    { name: 'deploys', run: needBerth(berthDeploys) },
    { name: 'berth-load', run: needBerth(berthUnderLoad) },
    { name: 'rollback', run: needBerth(berthRollback) },
    { name: 'naive', run: () => runBaseline(ctx, 'naive') },
    { name: 'overlap', run: () => runBaseline(ctx, 'overlap') },
    { name: 'long-lived', run: () => runLongLived(ctx) },
    { name: 'litestream', run: () => runLitestream(ctx) },
    { name: 'backup-verify', run: () => runBackupVerify(ctx) },
    { name: 'host-restart', run: () => hostRestart(ctx) },
    ...(todo.some((s) => NEEDS_FLEET.includes(s)) ? [{ name: 'fleet-setup' as const, run: async () => void (fleet = await setupFleet(ctx)) }] : []),
    { name: 'fleet-rolling', run: needFleet(fleetRolling) },
    { name: 'memory', run: needFleet(fleetMemory) },
  ];
  let errors: string[] = [];
  try {
    errors = await runSteps(all.filter((s) => s.name === 'host-images' || s.name === 'berth-setup' || s.name === 'fleet-setup' || todo.includes(s.name)), {
      log: ctx.log,
      // Partial results as the bench goes: a crash or a kill later loses nothing measured so far.
      after: (name, errs) => ctx.raw('partial', { loadAverage: loadAvg.samples, runId, machine, quick: args.quick, scenarios: todo, lastScenario: name, errors: errs, metrics: metricsOf(rec), notes: rec.notes, runs: rec.runs }),
    });
  } finally {
    clearInterval(sampler);
    cpuLoad?.stop();
    berth?.cleanup();
    await fleet?.cleanup().catch((e: Error) => ctx.log(`fleet cleanup failed: ${e.message}`));
  }
  const elapsedS = (performance.now() - t0) / 1000;
  const extra = rec.notes.map((n) => ({ label: n.slice(0, n.indexOf(': ')), value: n.slice(n.indexOf(': ') + 2) }));
  const table = formatTable(rec.metrics, extra);
  const verdicts = judge(rec.metrics);
  const loadLine = `${args.load ? `${args.load} busy processes ran beside the bench (--load ${args.load}); ` : 'no extra load started by the bench; '}1-minute load average during the run ${loadAvg.describe()}`;
  const machineLine = `Machine: ${formatMachine(machine)}. Bench wall time ${(elapsedS / 60).toFixed(1)} min${args.quick ? ' (--quick)' : ''}; ${loadLine}.`;
  console.log(`\n${table}\n\n${machineLine}\n`);
  for (const v of verdicts) console.log(`${v.pass === undefined ? 'n/a ' : v.pass ? 'PASS' : 'MISS'}  ${v.label}: ${v.figure} (target ${v.text})`);
  for (const e of errors) console.log(`ERROR ${e}`);
  const summary = {
    runId, machine, quick: args.quick, load: args.load, loadAverage: loadAvg.samples, scenarios: todo, elapsedS, errors,
    targets: verdicts,
    metrics: metricsOf(rec),
    notes: rec.notes,
    runs: rec.runs,
  };
  ctx.raw('summary', summary);
  // A full run without extra load is the reference (latest.*, README); a run under --load is kept
  // beside it (latest-loaded.*) to show the bench completes, and what the figures become, on a busy machine.
  const name = args.load ? 'latest-loaded' : full ? 'latest' : undefined;
  if (name) {
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, `${name}.json`), JSON.stringify(summary, null, 2) + '\n');
    const title = args.load ? `Berth benchmark — run under load (${args.load} busy processes)` : 'Berth benchmark — latest full run';
    const md = [`# ${title}`, '', `Produced by \`npm run bench\` (${todo.join(', ')}; run ${runId}). ${machineLine}`, '', table, '', ...errors.map((e) => `- ERROR ${e}`), '', '## Definitions', '', ...DEFINITIONS, ''].join('\n');
    writeFileSync(join(resultsDir, `${name}.md`), md);
    ctx.log(`wrote bench/results/${name}.json and ${name}.md`);
  }
  if (full && !args.load) {
    const readmePath = join(REPO_ROOT, 'README.md');
    const readme = readFileSync(readmePath, 'utf8');
    const loaded = existsSync(join(resultsDir, 'latest-loaded.md')) ? ' The same bench under load (`-- --load 2`: two busy processes on the two cores): `bench/results/latest-loaded.md`.' : '';
    const body = [
      '`npm run bench` (separate from the tests; `-- --quick`, `-- --only <scenario>`, `-- --load <n>`) measures deploys on the sandbox host against two baselines on the same app: `docker compose up -d --force-recreate` (naive) and blue/green on Traefik\'s Docker provider without draining (overlap); on the three sandbox machines, a hot deploy to one host vs three behind a front load balancer (`fleet-rolling`), the time to serving again after a dockerd restart or a host reboot (`host-restart`), and the memory of the CLI and of the edge containers (`memory`). Definitions and per-run data: `bench/results/latest.md`, `bench/results/latest.json`; raw samples in `bench/results/raw/` (not committed).' + loaded,
      '',
      table,
      '',
      machineLine,
    ].join('\n');
    writeFileSync(readmePath, replacePerformanceSection(readme, body));
    ctx.log('wrote README "## Performance"');
  }
  ctx.log(`bench done in ${(elapsedS / 60).toFixed(1)} min`);
  return errors.length ? 1 : 0;
}
