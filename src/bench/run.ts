// `npm run bench [-- --quick] [-- --only <scenario>[,<scenario>…]]`: runs the scenarios on the
// sandbox machines (holding the main e2e lane's lock), prints figures with targets, writes raw data
// to bench/results/raw/<run>/ and, for a full run, keeps its summary in bench/results/runs/ and
// reports every full run of the same code together: bench/results/latest.{json,md} and README's
// "## Performance" section (latest-loaded.* for runs under --load).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
import { acrossRuns, formatPerRunTable, formatRunList, type RunRecord, sameCode } from './across-runs.ts';
import { codeIdentity } from './code-id.ts';
import { BENCH_LANE, holdLaneLock } from './lane-lock.ts';
import { runBaseline } from './scenarios/baselines.ts';
import { berthDeploys, berthRollback, berthUnderLoad, setupBerth, type BerthBench } from './scenarios/berth.ts';
import { runBackupVerify } from './scenarios/backup-verify.ts';
import { runLitestream } from './scenarios/litestream.ts';
import { runLongLived } from './scenarios/long-lived.ts';
import { fleetMemory, fleetRolling, hostRestart, setupFleet, type FleetBench } from './scenarios/fleet.ts';
import { runSwarm } from './scenarios/swarm.ts';
import { runTransfer } from './scenarios/transfer.ts';

export const SCENARIOS = [
  'deploys', 'berth-load', 'rollback', 'naive', 'overlap', 'long-lived', 'litestream', 'backup-verify', 'host-restart', 'fleet-rolling', 'memory',
  'transfer', 'swarm',
] as const;
type Scenario = (typeof SCENARIOS)[number];
const NEEDS_BERTH: Scenario[] = ['deploys', 'berth-load', 'rollback'];
const NEEDS_FLEET: Scenario[] = ['fleet-rolling', 'memory'];

const USAGE = `usage: npm run bench [-- --quick] [-- --only <name>[,<name>…]] [-- --load <n>]
scenarios: ${SCENARIOS.join(', ')}
  --quick   fewer repetitions (1–2 per case)
  --only    run only these scenarios (full runs alone are kept and reported in latest.* and README)
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
  const resultsDir = join(REPO_ROOT, 'bench', 'results');
  const log = (msg: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
  // h1–h3 are the main e2e lane's machines: never shared with an end-to-end run (`transfer` and
  // `swarm` take their own lanes' locks and leave h1–h3 alone).
  const lane = todo.some((s) => s !== 'transfer' && s !== 'swarm') ? await holdLaneLock(BENCH_LANE, log) : undefined;
  try {
    return await benchRun(args, todo, full, resultsDir);
  } finally {
    lane?.release();
  }
}

async function benchRun(args: ReturnType<typeof parseBenchArgs>, todo: Scenario[], full: boolean, resultsDir: string): Promise<number> {
  const runId = new Date().toISOString().replace(/[:.]/g, '-');
  // The code this run measures, hashed before it starts (an edit made while it runs is not it).
  const identity = codeIdentity(REPO_ROOT, runId);
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
    // h1–h3's test images; `transfer` and `swarm` run on their own lanes' machines and leave h1–h3 alone.
    ...(todo.some((s) => s !== 'transfer' && s !== 'swarm') ? [{ name: 'host-images' as const, run: async () => ctx.log(`test app images: ${await refreshTestImages([H1, H2, H3])}`) }] : []),
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
    { name: 'transfer', run: () => runTransfer(ctx) },
    { name: 'swarm', run: () => runSwarm(ctx) },
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
  const verdicts = judge(rec.metrics);
  const loadLine = `${args.load ? `${args.load} busy processes ran beside the bench (--load ${args.load}); ` : 'no extra load started by the bench; '}1-minute load average during the run ${loadAvg.describe()}`;
  const machineLine = `Machine: ${formatMachine(machine)}. Bench wall time ${(elapsedS / 60).toFixed(1)} min${args.quick ? ' (--quick)' : ''}; ${loadLine}.`;
  console.log(`\n${formatTable(rec.metrics, extra, verdicts)}\n\n${machineLine}\n`);
  for (const v of verdicts) console.log(`${v.pass === undefined ? 'n/a ' : v.pass ? 'PASS' : 'MISS'}  ${v.label}: ${v.figure} (target ${v.text})`);
  for (const e of errors) console.log(`ERROR ${e}`);
  const summary = {
    runId, ...identity, machine, full, quick: args.quick, load: args.load, loadAverage: loadAvg.samples, scenarios: todo, elapsedS, errors,
    targets: verdicts,
    metrics: metricsOf(rec),
    notes: rec.notes,
    runs: rec.runs,
  };
  ctx.raw('summary', summary);
  if (full) {
    // Every full run is kept; the report covers every full run of this code at this load level.
    const runsDir = join(resultsDir, 'runs');
    mkdirSync(runsDir, { recursive: true });
    writeFileSync(join(runsDir, `${runId}.json`), JSON.stringify(summary, null, 2) + '\n');
    const all = readRuns(runsDir, ctx.log);
    const runs = sameCode(all, identity.codeId, args.load);
    const older = all.filter((r) => r.full && r.load === args.load && r.codeId !== identity.codeId).length;
    writeReport(resultsDir, args.load, runs, older, ctx.log);
  }
  ctx.log(`bench done in ${(elapsedS / 60).toFixed(1)} min`);
  return errors.length ? 1 : 0;
}

function readRuns(dir: string, log: (m: string) => void): RunRecord[] {
  const out: RunRecord[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    try {
      out.push(JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunRecord);
    } catch (e) {
      log(`skipping bench/results/runs/${f}: ${(e as Error).message}`);
    }
  }
  return out;
}

/**
 * latest.{json,md} (latest-loaded.* under --load) and, without extra load, README's Performance
 * section: the runs of this code pooled, each run listed with its own figures.
 */
function writeReport(resultsDir: string, load: number, runs: RunRecord[], olderRuns: number, log: (m: string) => void) {
  const a = acrossRuns(runs);
  const table = formatTable(a.pooled, a.notes, a.verdicts);
  const code = runs[0]!.codeId;
  const runLines = formatRunList(a);
  const scope = `${runs.length} full run${runs.length === 1 ? '' : 's'} of the same code (code id \`${code}\`${olderRuns ? `; ${olderRuns} run(s) of other code in bench/results/runs/ are not counted` : ''})`;
  const name = load ? 'latest-loaded' : 'latest';
  const title = load ? `Berth benchmark — every full run under load (${load} busy processes)` : 'Berth benchmark — every full run of this code';
  writeFileSync(join(resultsDir, `${name}.json`), JSON.stringify({ codeId: code, runIds: runs.map((r) => r.runId), targets: a.verdicts, metrics: Object.fromEntries([...a.pooled].map(([k, m]) => [k, { label: m.label, unit: m.unit, ...m.summary, values: m.values, notes: m.notes }])) }, null, 2) + '\n');
  const md = [
    `# ${title}`, '',
    `Produced by \`npm run bench\` from ${scope}. Headline figures are over every measurement of every run (n counts them); a target marked "every run" must hold in each run on its own. Each run's own summary: \`bench/results/runs/<run>.json\`.`, '',
    table, '',
    '## Each run', '',
    formatPerRunTable(a), '',
    ...runLines, '',
    ...runs.flatMap((r, i) => r.errors.map((e) => `- ERROR (run ${i + 1}) ${e}`)), '',
    '## Definitions', '', ...DEFINITIONS, '',
  ].join('\n');
  writeFileSync(join(resultsDir, `${name}.md`), md);
  log(`wrote bench/results/${name}.json and ${name}.md (${scope})`);
  if (load) return;
  const readmePath = join(REPO_ROOT, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const loadedCode = (() => {
    try {
      return (JSON.parse(readFileSync(join(resultsDir, 'latest-loaded.json'), 'utf8')) as { codeId?: string }).codeId;
    } catch {
      return undefined;
    }
  })();
  const loaded = !existsSync(join(resultsDir, 'latest-loaded.md'))
    ? ''
    : loadedCode === code
      ? ' The same code under load (`-- --load 2`: two busy processes on the two cores): `bench/results/latest-loaded.md`.'
      : ' `bench/results/latest-loaded.md` holds runs under load (`-- --load <n>`) of other code.';
  const body = [
    '`npm run bench` (separate from the tests; `-- --quick`, `-- --only <scenario>`, `-- --load <n>`; it holds the main e2e lane\'s lock while it uses h1–h3) measures deploys on the sandbox host against two baselines on the same app: `docker compose up -d --force-recreate` (naive) and blue/green on Traefik\'s Docker provider without draining (overlap); on the three sandbox machines, a hot deploy to one host vs three behind a front load balancer (`fleet-rolling`), the time to serving again after a dockerd restart or a host reboot (`host-restart`), the memory of the CLI and of the edge containers (`memory`), and on the swarm lane (h7–h9) a cluster app vs a per-host app: hot deploy and rollback time, failed requests, and a node powered off (`swarm`). Every full run is kept (`bench/results/runs/`) and the table below covers ' + scope + ': medians and p95 over every measurement of every run, not a chosen run. Definitions, each run\'s own figures: `bench/results/latest.md`; raw samples in `bench/results/raw/` (not committed).' + loaded,
    '',
    table,
    '',
    'Runs:',
    '',
    ...runLines,
  ].join('\n');
  writeFileSync(readmePath, replacePerformanceSection(readme, body));
  log('wrote README "## Performance"');
}
