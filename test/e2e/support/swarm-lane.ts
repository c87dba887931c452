// The swarm lane's machines (h7 manager, h8, h9 from bare) as the swarm tests use them: a project
// whose hosts.json defines cluster `sw`, a reset that makes the lane re-runnable from any state
// (a previous run's swarm, h9 already set up), and small readers of the swarm's state over SSH.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostSpec, SANDBOX_SSH_KEY, type SandboxHostSpec } from '../../../src/sandbox/config.ts';
import { onHost, resetHost } from '../../../src/sandbox/fleet.ts';
import { waitForMachineDocker, waitForSsh } from '../../../src/sandbox/hosts.ts';
import { waitFor } from '../../../src/sandbox/http.ts';
import { startLoad, type LoadResult } from '../../../src/sandbox/load.ts';
import { run } from '../../../src/sandbox/proc.ts';
import { makeProject, type TestProject } from './project.ts';

export const H7 = hostSpec('h7');
export const H8 = hostSpec('h8');
export const H9 = hostSpec('h9');
export const LANE = [H7, H8, H9];
export const CLUSTER = 'sw';
/** Overlay subnets well away from the fleet network (10.77.0.0/24) and the hosts' bridges (10.210.0.0/16). */
export const POOL = '10.220.0.0/16';

export function swarmHosts(roles: Record<string, string[]> = {}) {
  return {
    hosts: Object.fromEntries(
      LANE.map((h) => [h.name, { ssh: `${h.sshUser}@${h.sshHost}:${h.sshPort}`, identity_file: SANDBOX_SSH_KEY, context: h.context, private_ip: h.address, roles: roles[h.name] ?? ['web'] }]),
    ),
    clusters: { [CLUSTER]: { engine: 'swarm', hosts: LANE.map((h) => h.name), managers: ['h7'], address_pool: POOL } },
  };
}

export function swarmProject(prefix: string, roles?: Record<string, string[]>): TestProject {
  const p = makeProject(prefix, LANE);
  writeFileSync(join(p.root, 'hosts.json'), JSON.stringify(swarmHosts(roles), null, 2));
  return p;
}

/**
 * Back to a lane without a swarm: h7 and h8 leave any swarm and lose Berth's app state and edge;
 * h9 is thrown away and started bare again (no Docker), so setup installs and joins it each run.
 */
/** Every lane machine running and answering SSH (a drill that failed midway may have left one powered off). */
export async function ensureLaneUp(): Promise<void> {
  for (const h of LANE) {
    const st = await run(['docker', 'inspect', '-f', '{{.State.Running}}', h.container], { allowFail: true, timeoutMs: 30_000 });
    if (st.stdout.trim() === 'true') continue;
    await powerOn(h);
    await waitForSsh(h);
    if (!h.bare || (await onHost(h, 'command -v dockerd', { allowFail: true })).code === 0) await waitForMachineDocker(h);
  }
}

export async function resetLane(apps: string[]): Promise<void> {
  await ensureLaneUp();
  const forget = apps.map((a) => `/var/lib/berth/apps/${a} /etc/berth/${a} /var/lib/berth/edge/dynamic/${a}.yml`).join(' ');
  await Promise.all(
    [H7, H8].map((h) =>
      onHost(h, `docker swarm leave --force >/dev/null 2>&1; docker ps -aq --filter label=com.docker.compose.project=berth-edge | xargs -r docker rm -f >/dev/null; docker volume ls -q | grep '^berth-sw' | xargs -r docker volume rm >/dev/null 2>&1; rm -rf ${forget}; true`, { allowFail: true, timeoutMs: 120_000 }),
    ),
  );
  await resetHost(H9);
}

/** A command on the manager (h7), over SSH. */
export const onManager = (script: string) => onHost(H7, script, { allowFail: true, timeoutMs: 60_000 });

/** `<node hostname> <state>` of each running task of a service. */
export async function tasksOf(service: string): Promise<{ node: string; state: string }[]> {
  const r = await onManager(`docker service ps --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' ${service}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => ({ node: l.split(' ')[0]!, state: l.split(' ').slice(1).join(' ') }));
}

/** Stop a machine as if powered off (its container stops; nothing inside shuts down cleanly). */
export async function powerOff(h: SandboxHostSpec): Promise<void> {
  await run(['ssh', '-O', 'exit', `${h.sshUser}@${h.sshHost}`], { allowFail: true, timeoutMs: 5000 });
  await run(['docker', 'kill', h.container], { timeoutMs: 60_000 });
}

export async function powerOn(h: SandboxHostSpec): Promise<void> {
  await run(['docker', 'start', h.container], { timeoutMs: 60_000 });
}

export interface NodeLossDrill {
  victim: SandboxHostSpec;
  /** How many of the service's tasks ran on the victim before it went. */
  tasksOnIt: number;
  /** Power-off → every replica running on the other nodes. */
  recoveryMs: number;
  load: LoadResult;
}

/**
 * The node-loss drill (swarm e2e and bench): steady GETs through the front, the worker holding most
 * of `service`'s tasks powered off, wait until all `replicas` run elsewhere, a short settle, load
 * stopped, the node powered on and back in the swarm. The caller judges the numbers.
 */
export async function nodeLossDrill(opts: { service: string; replicas: number; url: string; host: string; ratePerSec: number; maxMs: number; warmupMs: number; settleMs: number }): Promise<NodeLossDrill> {
  const before = await tasksOf(opts.service);
  const count = (n: string) => before.filter((t) => t.node === n).length;
  // A worker: the manager runs the edge and keeps the swarm.
  const victim = count('h8') >= count('h9') ? H8 : H9;
  const tasksOnIt = count(victim.name);
  if (!tasksOnIt) throw new Error(`no task of ${opts.service} on a worker: ${JSON.stringify(before)}`);
  const load = startLoad({ url: opts.url, ratePerSec: opts.ratePerSec, maxRequests: Math.ceil((opts.ratePerSec * opts.maxMs) / 1000), maxDurationMs: opts.maxMs, timeoutMs: 10_000, mix: [{ kind: 'get', weight: 1, path: '/', headers: { host: opts.host } }] });
  let recoveryMs = NaN;
  try {
    await new Promise((r) => setTimeout(r, opts.warmupMs));
    const off = Date.now();
    await powerOff(victim);
    await waitFor(`${opts.replicas} running tasks off ${victim.name}`, async () => {
      const t = await tasksOf(opts.service);
      return t.length === opts.replicas && t.every((x) => x.node !== victim.name && x.state.startsWith('Running')) ? true : undefined;
    }, { timeoutMs: opts.maxMs - opts.warmupMs - opts.settleMs, intervalMs: 250 });
    recoveryMs = Date.now() - off;
    await new Promise((r) => setTimeout(r, opts.settleMs));
  } finally {
    load.stop();
    await powerOn(victim);
  }
  const result = await load.done;
  await waitForSsh(victim);
  await waitForMachineDocker(victim);
  return { victim, tasksOnIt, recoveryMs, load: result };
}
