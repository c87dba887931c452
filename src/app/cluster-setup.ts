// `setup` on a cluster's hosts: form the swarm over SSH (init on the first manager advertising its
// private address, join the others with tokens read into memory and handed over on stdin), give
// each node Berth's labels (host, cluster, roles), keep managers and workers as hosts.json says,
// drain and remove nodes whose host left the cluster, and create the edge's overlay network.
// Idempotent: a formed swarm with the right labels is only read. `setup --check` reports drift.
import type { ClusterConfig, Project } from '../config/schema.ts';
import { StepError } from '../errors.ts';
import { swarmScripts } from '../exec/swarm-scripts.ts';
import { type EngineSwarm, parseEngineSwarm, parseSwarmNodes, planMembership, planNodes, type SwarmNode } from '../plan/swarm-plan.ts';
import type { Deps } from './deps.ts';
import { type HostHandle, hostHandle } from './host.ts';

/** How long setup waits for a removed node's tasks to move elsewhere. */
const DRAIN_SECONDS = 120;

/** The clusters any of `hosts` belongs to. */
export const clustersOf = (project: Project, hosts: readonly string[]) => Object.entries(project.clusters ?? {}).filter(([, c]) => c.hosts.some((h) => hosts.includes(h)));

async function observe(deps: Deps, handles: HostHandle[], primary: HostHandle): Promise<{ engines: EngineSwarm[]; nodes: SwarmNode[] }> {
  const engines = await Promise.all(
    handles.map(async (h) => {
      const r = await deps.runner.run(swarmScripts.info(h.ssh), { allowFailure: true });
      return r.exitCode === 0 ? parseEngineSwarm(h.name, r.stdout) : { host: h.name, state: 'unreachable', nodeId: '', clusterId: '', manager: false };
    }),
  );
  const p = engines.find((e) => e.host === primary.name);
  const nodes = p?.state === 'active' && p.manager ? parseSwarmNodes((await deps.runner.run(swarmScripts.nodes(primary.ssh))).stdout) : [];
  return { engines, nodes };
}

export async function setupCluster(deps: Deps, project: Project, name: string, cluster: ClusterConfig): Promise<void> {
  const handles = cluster.hosts.map((h) => hostHandle(h, project.hosts[h]!));
  const primary = handles.find((h) => h.name === cluster.managers[0])!;
  const addr = (h: string) => project.hosts[h]!.private_ip!;
  let end = deps.log.step(`cluster ${name}: swarm on ${cluster.hosts.join(', ')}`);
  let seen = await observe(deps, handles, primary);
  const unreachable = seen.engines.filter((e) => e.state === 'unreachable').map((e) => e.host);
  if (unreachable.length) throw new StepError('setup', `cluster ${name}: ${unreachable.join(', ')} did not answer "docker info" over SSH; set them up first (npm run setup -- <host>), then rerun`);
  const membership = planMembership(name, cluster, project.hosts, seen.engines, seen.nodes);
  if (membership.problems.length) throw new StepError('setup', `cluster ${name}: nothing was changed:\n  ${membership.problems.join('\n  ')}`);
  if (membership.init) {
    await deps.runner.run(swarmScripts.init(primary.ssh, membership.init.addr, membership.init.pool));
    deps.log.info(`${primary.name}: formed swarm ${name}, advertising ${membership.init.addr}`);
  }
  if (membership.join.length) {
    // The tokens stay in this process: added to the log's redactions, handed to each host on stdin.
    const tokens = (await deps.runner.run(swarmScripts.joinTokens(primary.ssh))).stdout.trim().split('\n');
    deps.log.addSecrets(tokens);
    const [worker, manager] = tokens;
    if (!worker || !manager) throw new StepError('setup', `cluster ${name}: could not read the join tokens on ${primary.name}`);
    for (const j of membership.join) {
      const h = handles.find((x) => x.name === j.host)!;
      const r = await deps.runner.run(swarmScripts.join(h.ssh, j.addr, addr(primary.name), j.as === 'manager' ? manager : worker), { allowFailure: true });
      if (r.exitCode !== 0) throw new StepError('setup', `${j.host} could not join swarm ${name} at ${addr(primary.name)}:2377 (${r.stderr.trim().split('\n').pop()}); check that 2377/tcp, 7946/tcp+udp and 4789/udp pass between the hosts' private addresses`);
      deps.log.info(`${j.host}: joined swarm ${name} as a ${j.as}`);
    }
  }
  if (membership.init || membership.join.length) seen = await observe(deps, handles, primary);
  const plan = planNodes(name, cluster, project.hosts, seen.engines, seen.nodes);
  for (const l of plan.labels) {
    const flags = [...Object.entries(l.add).flatMap(([k, v]) => ['--label-add', `${k}=${v}`]), ...l.rm.flatMap((k) => ['--label-rm', k])];
    await deps.runner.run(swarmScripts.nodeUpdate(primary.ssh, l.id, flags));
  }
  for (const p of plan.promote) await deps.runner.run(swarmScripts.promote(primary.ssh, p.id));
  for (const p of plan.demote) await deps.runner.run(swarmScripts.demote(primary.ssh, p.id));
  for (const a of plan.activate) await deps.runner.run(swarmScripts.nodeUpdate(primary.ssh, a.id, ['--availability', 'active']));
  end(`${seen.nodes.length || cluster.hosts.length} node(s)${plan.labels.length ? `, labels set on ${plan.labels.map((l) => l.host).join(', ')}` : ''}`);

  for (const r of plan.remove) {
    end = deps.log.step(`cluster ${name}: drain and remove ${r.host}`);
    if (r.status === 'ready') {
      const d = await deps.runner.run(swarmScripts.drain(primary.ssh, r.id, DRAIN_SECONDS), { allowFailure: true });
      if (d.exitCode !== 0) throw new StepError('setup', `${r.host} left cluster ${name} in hosts.json, but its tasks did not move to other nodes within ${DRAIN_SECONDS}s (${d.stdout.trim()}); it stays drained: rerun setup once they have`);
    }
    // The host leaves its side of the swarm when Berth still reaches it; the managers forget it.
    if (project.hosts[r.host]) await deps.runner.run(swarmScripts.leave(hostHandle(r.host, project.hosts[r.host]!).ssh), { allowFailure: true });
    await deps.runner.run(swarmScripts.nodeRemove(primary.ssh, r.id));
    end();
  }

  end = deps.log.step(`cluster ${name}: overlay network for the edge`);
  end((await deps.runner.run(swarmScripts.overlay(primary.ssh))).stdout.trim());
}

export interface ClusterCheck {
  cluster: string;
  ok: boolean;
  lines: string[];
}

/** Read-only: each node's state and drift from hosts.json (labels, role, availability, membership). */
export async function checkClusters(deps: Deps, project: Project, hosts?: readonly string[]): Promise<ClusterCheck[]> {
  const out: ClusterCheck[] = [];
  for (const [name, cluster] of hosts ? clustersOf(project, hosts) : Object.entries(project.clusters ?? {})) {
    const handles = cluster.hosts.map((h) => hostHandle(h, project.hosts[h]!));
    const primary = handles.find((h) => h.name === cluster.managers[0])!;
    const seen = await observe(deps, handles, primary);
    const membership = planMembership(name, cluster, project.hosts, seen.engines, seen.nodes);
    const lines = [...membership.problems.map((p) => `drift ${p}`)];
    if (membership.init) lines.push(`drift ${primary.name}: no swarm yet (setup forms it)`);
    lines.push(...planNodes(name, cluster, project.hosts, seen.engines, seen.nodes).report);
    out.push({ cluster: name, ok: lines.every((l) => l.startsWith('ok ')), lines });
  }
  return out;
}

