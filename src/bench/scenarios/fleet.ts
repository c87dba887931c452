// Berth on the three sandbox machines: a hot deploy to one host vs the same app on h1, h2 and h3
// (deploy.batch_size) under load through the front load balancer; dockerd restart and host reboot
// → the app serving again; the Berth CLI's peak memory and the edge containers' memory per host.
import { appProject, EDGE_PROJECT } from '../../names.ts';
import { FLEET_NETWORK } from '../../sandbox/config.ts';
import { startFront, type FrontContainer } from '../../sandbox/front.ts';
import { httpRequest, sandboxRequest, waitFor } from '../../sandbox/http.ts';
import { isFailure } from '../analyze.ts';
import type { BenchContext } from '../context.ts';
import { H1, H2, H3, makeProject, onConsole, rebootHost, resetApps, restartDocker, sleep, timedBerth, type SandboxHostSpec, type TestProject } from '../env.ts';
import { parseServiceMemory, ratioOfMedians } from '../fleet-figures.ts';
import { firstAnswerAfterOutage } from '../outage.ts';
import { watchPeakRss, type PeakRss } from '../proc-memory.ts';
import { underLoad } from '../workload.ts';
import { appConfig } from './berth.ts';

export const ONE_APP = 'fbone';
export const ROLL_APP = 'fbroll';
export const RESTART_APP = 'fbrestart';
const FLEET = [H1, H2, H3];
/** The one-host app's host (never h1: the lead benches there). */
const ONE_HOST = H2;
/** Hosts deployed at the same time: all three (the rolling deploy's wall time is what the ratio judges). */
export const BATCH_SIZE = 3;
const RATE = 50;
const EDGE_SERVICES = ['traefik', 'socket-proxy'] as const;
const domain = (app: string) => `${app}.berth.test`;
const next = (tag: string) => (tag === 'v1' ? 'v2' : 'v1');

/**
 * The bench app (berth.ts) on `hosts`, plain HTTP at the origin (the front terminates TLS, as
 * Cloudflare's Flexible mode; ACME is not what this measures); `batchSize` capped at the host count.
 * A web tier on several hosts keeps no state of its own (Berth refuses a volume on several hosts):
 * no volume, so the release command runs once per deploy, as against a shared database; the test
 * app's POST /write creates its table in the container's own /data.
 */
function fleetAppConfig(app: string, hosts: SandboxHostSpec[], batchSize?: number) {
  const { volumes: _perHost, ...base } = appConfig(app, 2);
  const deploy = batchSize === undefined ? base.deploy : { ...base.deploy, batch_size: Math.min(batchSize, hosts.length) };
  return { ...base, hosts: hosts.map((h) => h.name), tls: { mode: 'none' }, deploy };
}

interface HostOutcome {
  host: string;
  result: 'noop' | 'deployed' | 'dry-run';
  release: string;
  timings: Record<string, number>;
}

export interface FleetBench {
  p: TestProject;
  live: Record<string, string>;
  /** The front for each app: the one-host app's has one origin, the fleet app's three. */
  fronts: Record<string, FrontContainer>;
  cleanup(): Promise<void>;
}

async function deploy(b: FleetBench, app: string, tag: string, onSpawn?: (pid: number) => void) {
  const { r, wallMs } = await timedBerth(b.p, 'deploy', [app, '--release', tag, '--json'], {}, onSpawn);
  const out = JSON.parse(r.stdout) as HostOutcome[];
  b.live[app] = tag;
  return { out, wallMs };
}

/** A measured deploy must be a real one on every host of the app. */
function assertDeployed(app: string, tag: string, out: HostOutcome[], hosts: number) {
  const deployed = out.filter((o) => o.result === 'deployed').length;
  if (out.length !== hosts || deployed !== hosts) throw new Error(`${app} → ${tag}: expected ${hosts} host(s) deployed, got ${JSON.stringify(out.map((o) => [o.host, o.result]))}`);
}

const viaFront = (front: FrontContainer, app: string) => sandboxRequest(`${front.httpUrl}/`, { headers: { host: domain(app) }, timeoutMs: 5000 });

/** Every origin behind the front answers the live release (the front round-robins: `origins` answers in a row). */
async function servingThroughFront(front: FrontContainer, app: string, tag: string, origins: number) {
  const seen = new Set<string>();
  await waitFor(`${app} ${tag} through the front from ${origins} origin(s)`, async () => {
    const x = await viaFront(front, app).catch(() => undefined);
    if (x?.status === 200 && x.headers['x-release'] === tag) seen.add(String(x.headers['x-front-origin']));
    return seen.size >= origins ? true : undefined;
  }, { timeoutMs: 90_000, intervalMs: 200 });
}

/**
 * Both apps with two releases on their hosts (h3 set up from bare if it is, and its images pulled),
 * so every measured deploy is hot; one front per app on the fleet network.
 */
export async function setupFleet(ctx: BenchContext): Promise<FleetBench> {
  const reset = () => {
    for (const h of FLEET) {
      try {
        resetApps([ONE_APP, ROLL_APP], h);
      } catch (e) {
        ctx.log(`cleanup on ${h.name} failed: ${(e as Error).message}`);
      }
    }
  };
  reset();
  const p = makeProject('berth-bench-fleet-', FLEET);
  const b: FleetBench = {
    p, live: {}, fronts: {},
    async cleanup() {
      for (const f of Object.values(b.fronts)) await f.stop();
      reset();
      p.cleanup();
    },
  };
  try {
    p.writeApp(ONE_APP, fleetAppConfig(ONE_APP, [ONE_HOST], BATCH_SIZE));
    p.writeApp(ROLL_APP, fleetAppConfig(ROLL_APP, FLEET, BATCH_SIZE));
    // h1's edge is the lead's and already set up: only h2 and h3 (h3 may be a bare machine: setup installs Docker).
    for (const h of [H2, H3]) {
      const { wallMs } = await timedBerth(p, 'setup', [h.name]);
      ctx.log(`berth setup ${h.name}: ${(wallMs / 1000).toFixed(1)} s`);
    }
    for (const tag of ['v1', 'v2']) {
      for (const app of [ONE_APP, ROLL_APP]) {
        const { wallMs } = await deploy(b, app, tag);
        ctx.log(`first deploy ${app} → ${tag}: ${(wallMs / 1000).toFixed(1)} s`);
      }
    }
    const origin = (h: SandboxHostSpec) => `http://${h.address}`;
    b.fronts[ONE_APP] = await startFront({ origins: [origin(ONE_HOST)], network: FLEET_NETWORK.name, name: 'berth-bench-front-one' });
    b.fronts[ROLL_APP] = await startFront({ origins: FLEET.map(origin), network: FLEET_NETWORK.name, name: 'berth-bench-front-fleet' });
    await servingThroughFront(b.fronts[ONE_APP]!, ONE_APP, 'v2', 1);
    await servingThroughFront(b.fronts[ROLL_APP]!, ROLL_APP, 'v2', FLEET.length);
    return b;
  } catch (e) {
    await b.cleanup();
    throw e;
  }
}

/** Hot deploys under 50 req/s through the front, one host and three hosts in turn; the ratio of their medians. */
export async function fleetRolling(ctx: BenchContext, b: FleetBench) {
  const wall: Record<string, number[]> = { [ONE_APP]: [], [ROLL_APP]: [] };
  const cases = [
    { app: ONE_APP, hosts: 1, key: 'one', label: `one host (${ONE_HOST.name})` },
    { app: ROLL_APP, hosts: FLEET.length, key: 'three', label: `three hosts (batch_size ${BATCH_SIZE})` },
  ];
  for (let i = 0; i < ctx.reps(3, 1); i++) {
    for (const c of cases) {
      const from = b.live[c.app]!;
      const to = next(from);
      // The tail covers the retire window (2 s) plus the old colour's stop on every host.
      const { value, load } = await underLoad(b.fronts[c.app]!.httpUrl, RATE, false, () => deploy(b, c.app, to), { tailMs: 4500, headers: { host: domain(c.app) } });
      assertDeployed(c.app, to, value.out, c.hosts);
      const failed = load.samples.filter(isFailure);
      wall[c.app]!.push(value.wallMs);
      ctx.rec.add(`deploy.fleet.${c.key}`, `Hot deploy wall time under ${RATE}/s through the front, ${c.label}`, 'ms', value.wallMs);
      ctx.rec.add(`failed.fleet.${c.key}`, `Failed requests through the front during the deploy, ${c.label}`, 'count', failed.length);
      ctx.rec.run({ scenario: 'fleet-rolling', app: c.app, hosts: c.hosts, from, to, wallMs: value.wallMs, failed: failed.length, requests: load.samples.length, releaseCounts: load.releaseCounts, outcomes: value.out });
      ctx.raw(`fleet-rolling-${c.key}-${i + 1}`, { outcomes: value.out, samples: load.samples });
      ctx.log(`${c.app} → ${to} on ${c.label}: ${(value.wallMs / 1000).toFixed(2)} s, ${load.samples.length} requests, ${failed.length} failed ${JSON.stringify(load.statusCounts)}, releases ${JSON.stringify(load.releaseCounts)}`);
    }
  }
  const ratio = ratioOfMedians(wall[ROLL_APP]!, wall[ONE_APP]!);
  ctx.rec.add('fleet.ratio', `Three-host / one-host hot deploy wall time (medians, batch_size ${BATCH_SIZE})`, 'ratio', ratio);
  ctx.log(`three/one ratio: ${ratio?.toFixed(2) ?? 'n/a'}`);
}

/** MiB per edge service on a host: `docker stats` of the berth-edge containers, read on the machine's console. */
async function edgeMemory(h: SandboxHostSpec): Promise<Record<string, number>> {
  const script = `docker ps -q --filter label=com.docker.compose.project=${EDGE_PROJECT} | while read -r id; do
  printf '%s\\t%s\\t%s\\n' "$id" "$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$id")" "$(docker stats --no-stream --format '{{.MemUsage}}' "$id")"
done`;
  const r = await onConsole(h, script, { timeoutMs: 60_000 });
  return parseServiceMemory(r.stdout);
}

/** Peak RSS of the Berth CLI during hot deploys (one host, three hosts), then the edge's memory on every host. */
export async function fleetMemory(ctx: BenchContext, b: FleetBench) {
  const cases = [
    { app: ONE_APP, hosts: 1, key: 'one', label: `one host (${ONE_HOST.name})` },
    { app: ROLL_APP, hosts: FLEET.length, key: 'three', label: 'three hosts' },
  ];
  for (let i = 0; i < ctx.reps(3, 1); i++) {
    for (const c of cases) {
      const to = next(b.live[c.app]!);
      let watch: { stop(): PeakRss } | undefined;
      let peak: PeakRss | undefined;
      try {
        const { out, wallMs } = await deploy(b, c.app, to, (pid) => (watch = watchPeakRss(pid)));
        peak = watch?.stop();
        assertDeployed(c.app, to, out, c.hosts);
        if (peak?.peakMiB === undefined) throw new Error(`no Node process of the Berth CLI was seen in /proc during the deploy of ${c.app}`);
        ctx.rec.add(`memory.cli.${c.key}`, `Berth CLI peak RSS, hot deploy to ${c.label}`, 'MiB', peak.peakMiB);
        ctx.rec.run({ scenario: 'memory', app: c.app, to, wallMs, peakMiB: peak.peakMiB, byPid: peak.byPid });
        ctx.log(`${c.app} → ${to}: Berth CLI peak RSS ${peak.peakMiB.toFixed(1)} MiB (deploy ${(wallMs / 1000).toFixed(2)} s)`);
      } finally {
        if (!peak) watch?.stop();
      }
      await sleep(3000); // the old colour retires (2 s) before the next deploy reuses it
    }
  }
  const perHost = await Promise.all(FLEET.map(async (h) => [h, await edgeMemory(h)] as const));
  for (const [h, mem] of perHost) {
    for (const service of EDGE_SERVICES) {
      if (mem[service] === undefined) throw new Error(`${h.name}: no memory reading for berth-edge ${service} (docker stats over the console)`);
      ctx.rec.add(`memory.edge.${h.name}.${service}`, `Edge ${service} memory on ${h.name}`, 'MiB', mem[service]);
    }
    ctx.log(`${h.name} edge: ${EDGE_SERVICES.map((s) => `${s} ${mem[s]?.toFixed(1)} MiB`).join(', ')}`);
  }
}

/** Fault on h2 → the first 200 of the app through h2's edge, polled every 100 ms (at most 120 s). */
async function timeToServing(h: SandboxHostSpec, app: string, fault: () => Promise<void>) {
  const probe = async () => (await httpRequest(`http://${domain(app)}/`, { resolveTo: h.edgeAddress, timeoutMs: 2000 })).status === 200;
  await waitFor(`${app} serving on ${h.name} before the fault`, async () => ((await probe().catch(() => false)) ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
  const abort = new AbortController();
  const t0 = Date.now();
  const recovery = firstAnswerAfterOutage(probe, { intervalMs: 100, timeoutMs: 120_000, signal: abort.signal });
  try {
    await fault();
  } catch (e) {
    abort.abort();
    await recovery.catch(() => undefined);
    throw e;
  }
  const r = await recovery;
  // The 200 must come from the app as restarted by the fault (not an old process between two blips).
  const started = await appStartedAt(h, app);
  if (!(started > t0)) throw new Error(`${app} on ${h.name}: its containers were not restarted by the fault (started ${new Date(started).toISOString()})`);
  if (r.upAt < started) throw new Error(`${app} on ${h.name}: a 200 at +${r.upAt - t0} ms came before the app restarted (+${started - t0} ms)`);
  return { downMs: r.downAt - t0, appStartedMs: started - t0, servingMs: r.upAt - t0, probes: r.probes };
}

/** Epoch ms when the app's running containers last started (Docker's State.StartedAt, on the host's console: same clock). */
async function appStartedAt(h: SandboxHostSpec, app: string): Promise<number> {
  const r = await onConsole(h, `docker ps -q --filter label=com.docker.compose.project=${appProject(app)} | xargs -r docker inspect -f '{{.State.StartedAt}}'`, { timeoutMs: 30_000 });
  const times = r.stdout.split('\n').filter(Boolean).map((t) => Date.parse(t));
  return times.length ? Math.max(...times) : NaN;
}

/** dockerd restart and host reboot on h2 (never h1) → the app answering 200 again through the host's edge. */
export async function hostRestart(ctx: BenchContext) {
  const h = H2;
  resetApps([RESTART_APP], h);
  const p = makeProject('berth-bench-restart-', [h]);
  try {
    p.writeApp(RESTART_APP, fleetAppConfig(RESTART_APP, [h]));
    await timedBerth(p, 'setup', [h.name]);
    await timedBerth(p, 'deploy', [RESTART_APP, '--release', 'v1', '--json']);
    const faults = [
      { key: 'recover.dockerd', label: `dockerd restart → first 200 through the edge (${h.name})`, run: () => restartDocker(h) },
      { key: 'recover.reboot', label: `Host reboot → first 200 through the edge (${h.name})`, run: () => rebootHost(h) },
    ];
    for (const f of faults) {
      for (let i = 0; i < ctx.reps(3, 1); i++) {
        const r = await timeToServing(h, RESTART_APP, f.run);
        ctx.rec.add(f.key, f.label, 'ms', r.servingMs);
        ctx.rec.run({ scenario: 'host-restart', fault: f.key, host: h.name, ...r });
        ctx.log(`${f.key} #${i + 1}: down after ${r.downMs} ms, app container started after ${(r.appStartedMs / 1000).toFixed(2)} s, serving after ${(r.servingMs / 1000).toFixed(2)} s (${r.probes} probes)`);
      }
    }
  } finally {
    try {
      resetApps([RESTART_APP], h);
    } catch (e) {
      ctx.log(`cleanup of ${RESTART_APP} on ${h.name} failed: ${(e as Error).message}`);
    }
    p.cleanup();
  }
}
