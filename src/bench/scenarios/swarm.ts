// The Swarm engine on the swarm lane's machines (h7 manager, h8, h9): the same test app as a
// cluster app (3 replicas over the nodes) and as a per-host app on h7, both behind a front on h7's
// edge: hot deploy and hot rollback wall time of each, failed requests at 50/s during the deploys,
// and a node holding tasks powered off under load (failed requests, seconds until every replica
// runs again elsewhere). Uses the lane's machines: never run it beside the swarm e2e lane.
import { FLEET_NETWORK } from '../../sandbox/config.ts';
import { startFront, type FrontContainer } from '../../sandbox/front.ts';
import { sandboxRequest, waitFor } from '../../sandbox/http.ts';
import { H7, nodeLossDrill, swarmProject } from '../../../test/e2e/support/swarm-lane.ts';
import { isFailure } from '../analyze.ts';
import type { BenchContext } from '../context.ts';
import { sleep, timedBerth, type TestProject } from '../env.ts';
import { underLoad } from '../workload.ts';
import { spawn } from 'node:child_process';
import { laneLockFile } from '../../../test/e2e/lanes.ts';

const CLUSTER_APP = 'bswarm';
const HOST_APP = 'bswhost';
const RATE = 50;
const domain = (app: string) => `${app}.berth.test`;
const next = (tag: string) => (tag === 'v1' ? 'v2' : 'v1');

const app = (name: string, cluster: boolean) => ({
  image: 'berth/testapp',
  ...(cluster ? { cluster: 'sw', replicas: 3 } : { hosts: ['h7'] }),
  domains: [domain(name)],
  tls: { mode: 'none' },
  port: 80,
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
  // A long retire window: the rollback right after a deploy finds the previous colour running.
  deploy: { retire_seconds: 600, stop_timeout_seconds: 10, health_timeout_seconds: 60 },
});

interface Outcome {
  result: string;
  release: string;
  reused?: boolean;
  timings: Record<string, number>;
}

/** Hold the swarm lane's lock (test/e2e/lanes.ts) while the scenario uses its machines: e2e runs of the lane wait. */
async function holdLaneLock(ctx: BenchContext): Promise<() => void> {
  const child = spawn('flock', [laneLockFile('swarm'), 'sh', '-c', 'echo held; exec sleep 7200'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => ctx.log('waiting for the swarm lane (an e2e run holds it)…'), 2000);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`flock on the swarm lane exited ${code}`)));
  });
  return () => {
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
  };
}

export async function runSwarm(ctx: BenchContext) {
  const release = await holdLaneLock(ctx);
  try {
    await measure(ctx);
  } finally {
    release();
  }
}

async function measure(ctx: BenchContext) {
  const p: TestProject = swarmProject('berth-bench-swarm-');
  const fronts: FrontContainer[] = [];
  const live: Record<string, string> = {};
  const deploy = async (a: string, tag: string) => {
    const { r, wallMs } = await timedBerth(p, 'deploy', [a, '--release', tag, '--json']);
    if (r.code !== 0) throw new Error(`deploy ${a} → ${tag} failed: ${r.all.slice(-800)}`);
    live[a] = tag;
    return { out: JSON.parse(r.stdout) as Outcome[], wallMs };
  };
  try {
    p.writeApp(CLUSTER_APP, app(CLUSTER_APP, true));
    p.writeApp(HOST_APP, app(HOST_APP, false));
    const s = await timedBerth(p, 'setup', []);
    if (s.r.code !== 0) throw new Error(`setup of the swarm lane failed: ${s.r.all.slice(-800)}`);
    ctx.log(`berth setup h7 h8 h9 (swarm sw): ${(s.wallMs / 1000).toFixed(1)} s`);
    for (const a of [CLUSTER_APP, HOST_APP]) for (const tag of ['v1', 'v2']) await deploy(a, tag);
    const front = await startFront({ origins: [`http://${H7.address}`], network: FLEET_NETWORK.name, name: 'berth-bench-front-swarm' });
    fronts.push(front);
    for (const a of [CLUSTER_APP, HOST_APP]) {
      await waitFor(`${a} through the front`, async () => ((await sandboxRequest(`${front.httpUrl}/`, { headers: { host: domain(a) }, timeoutMs: 5000 }).catch(() => undefined))?.status === 200 ? true : undefined), { timeoutMs: 60_000, intervalMs: 300 });
    }

    const cases = [
      { a: CLUSTER_APP, key: 'cluster', label: 'cluster app (3 replicas on h7–h9)' },
      { a: HOST_APP, key: 'host', label: 'per-host app (h7)' },
    ];
    for (let i = 0; i < ctx.reps(3, 1); i++) {
      for (const c of cases) {
        const to = next(live[c.a]!);
        const { value, load } = await underLoad(front.httpUrl, RATE, false, () => deploy(c.a, to), { tailMs: 3000, headers: { host: domain(c.a) } });
        if (value.out[0]?.result !== 'deployed') throw new Error(`${c.a} → ${to}: ${JSON.stringify(value.out)}`);
        const failed = load.samples.filter(isFailure).length;
        ctx.rec.add(`swarm.deploy.${c.key}`, `Swarm lane: hot deploy wall time under ${RATE}/s through the front, ${c.label}`, 'ms', value.wallMs);
        ctx.rec.add(`swarm.failed.${c.key}`, `Swarm lane: failed requests during the deploy, ${c.label}`, 'count', failed);
        ctx.rec.run({ scenario: 'swarm-deploy', app: c.a, to, wallMs: value.wallMs, failed, requests: load.samples.length, timings: value.out[0]?.timings });
        ctx.log(`${c.a} → ${to}: ${(value.wallMs / 1000).toFixed(2)} s, ${load.samples.length} requests, ${failed} failed`);
        // Straight back: the previous colour still runs (retire_seconds 600).
        const { r, wallMs } = await timedBerth(p, 'rollback', [c.a, '--json']);
        if (r.code !== 0) throw new Error(`rollback ${c.a} failed: ${r.all.slice(-800)}`);
        const o = (JSON.parse(r.stdout) as Outcome[])[0]!;
        live[c.a] = next(to);
        ctx.rec.add(`swarm.rollback.${c.key}`, `Swarm lane: hot rollback wall time (previous colour running), ${c.label}`, 'ms', wallMs, o.reused ? undefined : 'a run did not reuse the running colour');
        ctx.rec.run({ scenario: 'swarm-rollback', app: c.a, wallMs, reused: o.reused, timings: o.timings });
        ctx.log(`${c.a} rollback → ${o.release}: ${(wallMs / 1000).toFixed(2)} s (reused ${o.reused})`);
      }
    }

    for (let i = 0; i < ctx.reps(2, 1); i++) {
      const st = JSON.parse((await timedBerth(p, 'status', [CLUSTER_APP, '--json'])).r.stdout) as { colour: string }[];
      const svc = `berth-${CLUSTER_APP}_web-${st[0]!.colour}`;
      const { victim, tasksOnIt, recoveryMs, load: res } = await nodeLossDrill({ service: svc, replicas: 3, url: front.httpUrl, host: domain(CLUSTER_APP), ratePerSec: RATE, maxMs: 90_000, warmupMs: 1500, settleMs: 2000 });
      const failed = res.samples.filter(isFailure).length;
      ctx.rec.add('swarm.nodeloss.failed', `Swarm lane: failed requests at ${RATE}/s when a node holding tasks powers off`, 'count', failed);
      ctx.rec.add('swarm.nodeloss.recovery', 'Swarm lane: node powered off → every replica running on the other nodes', 'ms', recoveryMs);
      ctx.rec.run({ scenario: 'swarm-node-loss', node: victim.name, tasksOnIt, failed, requests: res.samples.length, recoveryMs, statuses: res.statusCounts });
      ctx.log(`node loss (${victim.name}, ${tasksOnIt} task(s)): ${failed} of ${res.samples.length} failed, full strength after ${(recoveryMs / 1000).toFixed(1)} s`);
      // The node is back: give the swarm a moment before the next round.
      await sleep(5000);
    }
  } finally {
    for (const f of fronts) await f.stop();
    for (const a of [CLUSTER_APP, HOST_APP]) await timedBerth(p, 'remove', [a, '--yes']).catch(() => undefined);
    p.cleanup();
  }
}
