// Forming and keeping a cluster's swarm (PURE): what each host's engine reports (`docker info`)
// and what the first manager lists (`docker node inspect`) in; the steps setup takes, or the drift
// `setup --check` reports, out. Hosts reach each other on their private_ip.
import type { ClusterConfig, HostConfig } from '../config/schema.ts';
import { NODE_LABEL } from '../names.ts';
import { nodeLabels } from './cluster-placement.ts';

/** One host's engine, as `docker info` tells it (SWARM_INFO in exec/swarm-scripts.ts). */
export interface EngineSwarm {
  host: string;
  /** inactive | pending | active | error | locked */
  state: string;
  nodeId: string;
  /** A manager knows the cluster's id. */
  clusterId: string;
  manager: boolean;
}

/** A node as the managers list it. */
export interface SwarmNode {
  id: string;
  role: 'manager' | 'worker';
  availability: 'active' | 'pause' | 'drain';
  status: string;
  addr: string;
  labels: Record<string, string>;
}

/** `<state>|<nodeId>|<clusterId>|<true|false>` → EngineSwarm. */
export function parseEngineSwarm(host: string, line: string): EngineSwarm {
  const [state = 'unknown', nodeId = '', clusterId = '', control = 'false'] = (line.trim().split('\n').pop() ?? '').split('|');
  return { host, state: state || 'unknown', nodeId, clusterId, manager: control === 'true' };
}

/** Lines `<id> <role> <availability> <status> <addr> <labels json>` → SwarmNode[]. */
export function parseSwarmNodes(text: string): SwarmNode[] {
  const out: SwarmNode[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+) (manager|worker) (active|pause|drain) (\S+) (\S*) (.*)$/.exec(line.trim());
    if (!m) continue;
    let labels: Record<string, string> = {};
    try {
      labels = (JSON.parse(m[6]!) as Record<string, string> | null) ?? {};
    } catch {
      labels = {};
    }
    out.push({ id: m[1]!, role: m[2] as SwarmNode['role'], availability: m[3] as SwarmNode['availability'], status: m[4]!, addr: m[5]!, labels });
  }
  return out;
}

export interface MembershipPlan {
  /** The first manager forms the swarm (advertising its private address). */
  init?: { host: string; addr: string; pool?: string };
  /** Hosts to join, with the token kind and the address they advertise. */
  join: { host: string; as: 'worker' | 'manager'; addr: string }[];
  /** Hosts Berth will not touch: their engine is in another swarm, or in an error state. */
  problems: string[];
}

/**
 * Who inits and who joins. A host already in this swarm (its node id listed by the first manager)
 * is left alone; a host in some other swarm is a problem for the operator, never forced out.
 */
export function planMembership(cluster: string, config: ClusterConfig, hosts: Record<string, HostConfig>, engines: EngineSwarm[], nodes: SwarmNode[]): MembershipPlan {
  const byHost = new Map(engines.map((e) => [e.host, e]));
  const first = config.managers[0]!;
  const plan: MembershipPlan = { join: [], problems: [] };
  const primary = byHost.get(first);
  const addr = (h: string) => hosts[h]!.private_ip!;
  if (!primary || primary.state !== 'active') {
    if (primary && primary.state !== 'inactive') {
      plan.problems.push(`${first}: its engine's swarm state is "${primary.state}"; fix it on the host (docker info), then rerun setup`);
      return plan;
    }
    plan.init = { host: first, addr: addr(first), ...(config.address_pool ? { pool: config.address_pool } : {}) };
  } else if (!primary.manager) {
    plan.problems.push(`${first} is the first manager of cluster ${cluster} but its engine is a worker of another swarm; run "docker swarm leave" on it (after checking what runs there), then rerun setup`);
    return plan;
  }
  const ours = new Set(nodes.map((n) => n.id));
  for (const h of config.hosts) {
    if (h === first) continue;
    const e = byHost.get(h);
    const as = config.managers.includes(h) ? 'manager' : 'worker';
    if (!e || e.state === 'inactive') {
      plan.join.push({ host: h, as, addr: addr(h) });
      continue;
    }
    if (e.state === 'active' && (plan.init || !ours.has(e.nodeId))) {
      plan.problems.push(`${h} is in another swarm (node ${e.nodeId.slice(0, 12)}); run "docker swarm leave --force" on it once nothing there needs that swarm, then rerun setup`);
      continue;
    }
    if (e.state !== 'active') plan.problems.push(`${h}: its engine's swarm state is "${e.state}"; fix it on the host (docker info), then rerun setup`);
  }
  return plan;
}

export interface NodesPlan {
  /** Label changes per node (Berth's labels only: berth.host, berth.cluster, berth.role.*). */
  labels: { host: string; id: string; add: Record<string, string>; rm: string[] }[];
  promote: { host: string; id: string }[];
  demote: { host: string; id: string }[];
  /** Back to active (a node drained by hand or by an earlier removal that was undone). */
  activate: { host: string; id: string }[];
  /** Nodes labelled for this cluster whose host left it: drained first, then removed. */
  remove: { host: string; id: string; status: string }[];
  /** One line per node for `setup --check`: ok … / drift … */
  report: string[];
}

/** Labels, roles and removals, from the nodes the first manager lists and each host's node id. */
export function planNodes(cluster: string, config: ClusterConfig, hosts: Record<string, HostConfig>, engines: EngineSwarm[], nodes: SwarmNode[]): NodesPlan {
  const plan: NodesPlan = { labels: [], promote: [], demote: [], activate: [], remove: [], report: [] };
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const seen = new Set<string>();
  for (const h of config.hosts) {
    const e = engines.find((x) => x.host === h);
    const node = e ? byId.get(e.nodeId) : undefined;
    if (!node) {
      plan.report.push(`drift ${h}: not a node of cluster ${cluster}${e ? ` (its engine: ${e.state})` : ' (unreachable)'}`);
      continue;
    }
    seen.add(node.id);
    const want = nodeLabels(h, cluster, hosts[h]?.roles ?? []);
    const add: Record<string, string> = {};
    for (const [k, v] of Object.entries(want)) if (node.labels[k] !== v) add[k] = v;
    const rm = Object.keys(node.labels).filter((k) => k.startsWith(NODE_LABEL.rolePrefix) && !(k in want)).sort();
    const drift: string[] = [];
    if (Object.keys(add).length || rm.length) {
      plan.labels.push({ host: h, id: node.id, add, rm });
      drift.push(`labels differ (missing or changed: ${Object.keys(add).join(', ') || 'none'}; extra: ${rm.join(', ') || 'none'})`);
    }
    const manager = config.managers.includes(h);
    if (manager && node.role !== 'manager') {
      plan.promote.push({ host: h, id: node.id });
      drift.push('is a worker, should be a manager');
    }
    if (!manager && node.role === 'manager') {
      plan.demote.push({ host: h, id: node.id });
      drift.push('is a manager, should be a worker');
    }
    if (node.availability !== 'active') {
      plan.activate.push({ host: h, id: node.id });
      drift.push(`availability ${node.availability}`);
    }
    if (node.status !== 'ready') drift.push(`status ${node.status}`);
    plan.report.push(drift.length ? `drift ${h}: ${drift.join('; ')}` : `ok ${h}: ${node.role}, ready, active, ${Object.keys(want).length} labels`);
  }
  for (const n of nodes) {
    if (seen.has(n.id)) continue;
    const labelled = n.labels[NODE_LABEL.cluster] === cluster;
    const host = n.labels[NODE_LABEL.host] ?? n.addr;
    if (labelled && !config.hosts.includes(host)) {
      plan.remove.push({ host, id: n.id, status: n.status });
      plan.report.push(`drift ${host}: still a node (${n.status}, ${n.availability}) but no longer in cluster ${cluster}: setup drains and removes it`);
    } else if (!labelled) {
      plan.report.push(`drift node ${n.id.slice(0, 12)} (${n.addr}): in the swarm but not a host of cluster ${cluster}`);
    }
  }
  return plan;
}
