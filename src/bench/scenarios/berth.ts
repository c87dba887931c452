// Berth itself on the sandbox host: deploys under load, hot and no-op deploys (with their SSH
// connection count), rollback with the previous colour running and stopped.
import { analyzeRun, countCommands } from '../analyze.ts';
import type { BenchContext } from '../context.ts';
import { closeSshMasters, countSshConnections, dockerLocal, healthyAt, makeProject, resetApps, sleep, timedBerth, type TestProject } from '../env.ts';
import { KEEP_ALIVE, RATES, underLoad } from '../workload.ts';
import { httpsRequest, waitFor } from '../../sandbox/http.ts';

export const APP = 'bench';
export const RB_APP = 'benchrb';
export const IMAGE = 'berth/testapp';
const domain = (app: string) => `${app}.berth.test`;

interface Outcome {
  result: 'noop' | 'deployed';
  release: string;
  colour: string;
  timings: Record<string, number>;
  switchMs?: number;
  switchedAt?: number;
}

/** The bench app on h1 (the fleet scenarios override hosts and TLS). */
export function appConfig(app: string, retireSeconds: number) {
  return {
    image: IMAGE, // berth/testapp:v1|v2 are on the host already: every deploy here is hot
    hosts: ['h1'],
    domains: [domain(app)],
    port: 80,
    healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
    volumes: { data: '/data' },
    release_command: 'testapp migrate',
    env: { GREETING: 'bench' },
    deploy: { retire_seconds: retireSeconds, stop_timeout_seconds: 10, health_timeout_seconds: 30 },
  };
}

export interface BerthBench {
  p: TestProject;
  live: Record<string, string>;
  cleanup(): void;
}

const tagOf = (release: string) => release.split('-')[0]!.split('+')[0]!;

/** A Berth command with --json --verbose: its outcome, wall time, and the round trips its log shows. */
async function deployJson(b: BerthBench, app: string, tag: string) {
  const { r, wallMs } = await timedBerth(b.p, 'deploy', [app, '--release', tag, '--json', '--verbose']);
  const o = (JSON.parse(r.stdout) as Outcome[])[0]!;
  if (o.result === 'deployed') b.live[app] = tag;
  return { o, wallMs, commands: countCommands(r.stderr) };
}

async function warm(app: string) {
  await waitFor(`${domain(app)} over HTTPS`, async () => {
    const x = await httpsRequest(`https://${domain(app)}/`).catch(() => undefined);
    return x?.status === 200 ? x : undefined;
  }, { timeoutMs: 90_000, intervalMs: 1000 });
}

/** Project + edge + first release of the bench app (and the rollback app), certificates issued. */
export async function setupBerth(ctx: BenchContext, withRollbackApp: boolean): Promise<BerthBench> {
  resetApps([APP, RB_APP]);
  const p = makeProject('berth-bench-');
  const b: BerthBench = { p, live: {}, cleanup: () => { resetApps([APP, RB_APP]); p.cleanup(); } };
  p.writeApp(APP, appConfig(APP, 2));
  if (withRollbackApp) p.writeApp(RB_APP, appConfig(RB_APP, 600));
  ctx.log('berth setup h1 (edge)');
  await timedBerth(p, 'setup', ['h1']);
  await deployJson(b, APP, 'v1');
  await warm(APP);
  return b;
}

const next = (tag: string) => (tag === 'v1' ? 'v2' : 'v1');

export async function berthUnderLoad(ctx: BenchContext, b: BerthBench) {
  const reps = ctx.reps(3);
  for (const rate of RATES) {
    for (const keepAlive of KEEP_ALIVE) {
      for (let i = 0; i < reps; i++) {
        const from = b.live[APP]!;
        const to = next(from);
        const label = `berth ${rate}/s keep-alive ${keepAlive ? 'on' : 'off'} #${i + 1}`;
        const t0 = Date.now();
        // The tail covers the retire window (2 s) plus the old colour's stop: failures caused by
        // retiring it would show here.
        const { value, load } = await underLoad(`https://${domain(APP)}`, rate, keepAlive, () => deployJson(b, APP, to), { tailMs: 4500 });
        const healthy = healthyAt(`berth-${APP}`, `${IMAGE}:${to}`, t0, Date.now());
        const a = analyzeRun(load.samples, from, to, healthy);
        const key = `${rate}.${keepAlive ? 'ka' : 'noka'}`;
        ctx.rec.add(`failed.berth.${key}`, `Berth: failed requests, ${rate}/s, keep-alive ${keepAlive ? 'on' : 'off'}`, 'count', a.failed);
        ctx.rec.add(`failed.berth.${rate}`, `Berth: failed requests at ${rate}/s`, 'count', a.failed);
        ctx.rec.add(`skipped.berth.${rate}`, `  of which never sent (load generator at its in-flight cap), ${rate}/s`, 'count', a.skipped);
        ctx.rec.add('mixed.start', 'Mixed-version window, by request start', 'ms', a.mixed.byStartMs);
        ctx.rec.add('mixed.completion', 'Mixed-version window, by response completion (all requests)', 'ms', a.mixed.byCompletionMs);
        ctx.rec.add('mixed.completionFast', 'Mixed-version window, by response completion (fast requests)', 'ms', a.mixed.byCompletionFastMs);
        ctx.rec.add('switch', 'Switch latency (route written → Traefik API reports it)', 'ms', value.o.switchMs);
        ctx.rec.add('ready', 'Ready-to-serving (new colour healthy → first answer from it)', 'ms', a.readyToServingMs);
        ctx.rec.add('deploy.underLoad', 'Deploy wall time under load', 'ms', value.wallMs);
        ctx.rec.run({ scenario: 'berth-load', label, rate, keepAlive, from, to, wallMs: value.wallMs, switchMs: value.o.switchMs, timings: value.o.timings, healthyAt: healthy, ...a });
        ctx.raw(`berth-load-${rate}-${keepAlive ? 'ka' : 'noka'}-${i + 1}`, { outcome: value.o, healthyAt: healthy, samples: load.samples });
        ctx.log(`${label}: ${a.requests} requests, ${a.failed} failed, mixed(start) ${a.mixed.byStartMs.toFixed(0)} ms, switch ${value.o.switchMs} ms, deploy ${(value.wallMs / 1000).toFixed(1)} s`);
      }
    }
  }
}

/**
 * Hot deploys (image on the host, a real change) and no-op deploys. The timed ones run as an
 * operator's next command does: the SSH master the previous command opened is still there
 * (ControlPersist); "first command" runs start with every master closed, and count the SSH
 * connections they open.
 */
export async function berthDeploys(ctx: BenchContext, b: BerthBench) {
  const hot = async (cold: boolean) => {
    const to = next(b.live[APP]!);
    if (cold) await closeSshMasters();
    const { value, connections } = await countSshConnections(() => deployJson(b, APP, to));
    const { o, wallMs, commands } = value;
    if (o.result !== 'deployed') throw new Error(`expected a deploy, got ${o.result}`);
    ctx.rec.add('switch', 'Switch latency (route written → Traefik API reports it)', 'ms', o.switchMs);
    if (cold) {
      ctx.rec.add('deploy.hot.cold', 'Hot deploy wall time, first command (no SSH master open)', 'ms', wallMs);
      ctx.rec.add('ssh.full', 'SSH connections opened by a full deploy', 'count', connections);
    } else {
      ctx.rec.add('deploy.hot', 'Hot deploy wall time (image on host)', 'ms', wallMs);
      ctx.rec.add('trips.hot', 'SSH round trips (host scripts) of a hot deploy', 'count', commands.trips);
      ctx.rec.add('docker.hot', 'docker / compose commands of a hot deploy', 'count', commands.docker);
      for (const [phase, ms] of Object.entries(o.timings)) ctx.rec.add(`phase.${phase}`, `  phase: ${phase}`, 'ms', ms);
      ctx.rec.add('phase.total', '  phases total (in-process)', 'ms', Object.values(o.timings).reduce((x, y) => x + y, 0));
    }
    ctx.rec.run({ scenario: cold ? 'hot-deploy-first' : 'hot-deploy', to, wallMs, connections, ...commands, timings: o.timings, switchMs: o.switchMs });
    ctx.log(`hot deploy${cold ? ' (first command)' : ''} → ${to}: ${(wallMs / 1000).toFixed(2)} s, ${connections} SSH connection(s), ${commands.trips} round trips, ${commands.docker} docker commands, ${JSON.stringify(o.timings)}`);
    await sleep(3000); // let the old colour retire before the next deploy reuses it
  };
  for (let i = 0; i < ctx.reps(5, 2); i++) await hot(false);
  for (let i = 0; i < ctx.reps(3, 1); i++) await hot(true);
  const noop = async (cold: boolean) => {
    if (cold) await closeSshMasters();
    const { value, connections } = await countSshConnections(() => deployJson(b, APP, b.live[APP]!));
    if (value.o.result !== 'noop') throw new Error(`expected a no-op deploy, got ${value.o.result}`);
    if (cold) {
      ctx.rec.add('deploy.noop.cold', 'No-op deploy wall time, first command (no SSH master open)', 'ms', value.wallMs);
      ctx.rec.add('ssh.noop', 'SSH connections opened by a no-op deploy', 'count', connections);
    } else {
      ctx.rec.add('deploy.noop', 'No-op deploy wall time', 'ms', value.wallMs);
      ctx.rec.add('trips.noop', 'SSH round trips (host scripts) of a no-op deploy', 'count', value.commands.trips);
    }
    ctx.rec.run({ scenario: cold ? 'noop-deploy-first' : 'noop-deploy', wallMs: value.wallMs, connections, ...value.commands, timings: value.o.timings });
    ctx.log(`no-op deploy${cold ? ' (first command)' : ''}: ${(value.wallMs / 1000).toFixed(2)} s, ${connections} SSH connection(s), ${value.commands.trips} round trip(s)`);
  };
  for (let i = 0; i < ctx.reps(5, 2); i++) await noop(false);
  for (let i = 0; i < ctx.reps(3, 1); i++) await noop(true);
}

/**
 * Rollback with the previous colour still running (retire window 600 s): as an operator's next
 * command (SSH master open) and as a first command; then with the previous colour stopped.
 */
export async function berthRollback(ctx: BenchContext, b: BerthBench) {
  await deployJson(b, RB_APP, 'v1');
  await warm(RB_APP);
  await deployJson(b, RB_APP, 'v2');
  let liveColour = '';
  const rollback = async () => {
    const { r, wallMs } = await timedBerth(b.p, 'rollback', [RB_APP, '--json', '--verbose']);
    const o = (JSON.parse(r.stdout) as { release: string; colour: string; reused: boolean; switchMs?: number; timings: Record<string, number> }[])[0]!;
    liveColour = o.colour;
    const served = (await httpsRequest(`https://${domain(RB_APP)}/`)).headers['x-release'];
    if (served !== tagOf(o.release)) throw new Error(`after rollback to ${o.release}, ${domain(RB_APP)} served ${served}`);
    return { o, wallMs, commands: countCommands(r.stderr) };
  };
  for (let i = 0; i < ctx.reps(5, 2); i++) {
    const { o, wallMs, commands } = await rollback();
    ctx.rec.add('rollback.hot', 'Rollback, previous colour running', 'ms', wallMs, o.reused ? undefined : 'a run did not reuse the running colour');
    ctx.rec.add('trips.rollback', 'SSH round trips (host scripts) of a rollback, previous colour running', 'count', commands.trips);
    ctx.rec.add('switch.rollback', 'Switch latency in a rollback (route written → Traefik API reports it)', 'ms', o.switchMs);
    ctx.rec.run({ scenario: 'rollback-hot', wallMs, reused: o.reused, ...commands, timings: o.timings });
    ctx.log(`rollback (hot) → ${o.release}: ${(wallMs / 1000).toFixed(2)} s, reused=${o.reused}, ${commands.trips} round trips, ${JSON.stringify(o.timings)}`);
  }
  for (let i = 0; i < ctx.reps(3, 1); i++) {
    await closeSshMasters();
    const { o, wallMs, commands } = await rollback();
    ctx.rec.add('rollback.hot.cold', 'Rollback, previous colour running, first command (no SSH master open)', 'ms', wallMs);
    ctx.rec.run({ scenario: 'rollback-hot-first', wallMs, reused: o.reused, ...commands, timings: o.timings });
    ctx.log(`rollback (hot, first command) → ${o.release}: ${(wallMs / 1000).toFixed(2)} s, ${JSON.stringify(o.timings)}`);
  }
  for (let i = 0; i < ctx.reps(3, 1); i++) {
    // The retire window has not passed (600 s): stop the idle colour the way the retire would.
    const idle = liveColour === 'blue' ? 'green' : 'blue';
    const ids = dockerLocal(['ps', '-q', '--filter', `label=com.docker.compose.project=berth-${RB_APP}`, '--filter', `label=com.docker.compose.service=web-${idle}`]);
    if (ids) dockerLocal(['stop', '-t', '10', ...ids.split('\n')]);
    const { o, wallMs } = await rollback();
    ctx.rec.add('rollback.cold', 'Rollback, previous colour stopped', 'ms', wallMs);
    ctx.rec.run({ scenario: 'rollback-cold', wallMs, reused: o.reused, timings: o.timings });
    ctx.log(`rollback (stopped) → ${o.release}: ${(wallMs / 1000).toFixed(2)} s, ${JSON.stringify(o.timings)}`);
  }
}
