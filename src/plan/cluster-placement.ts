// Where a cluster app's tasks may run, as Swarm placement constraints (PURE). Roles and hosts of
// hosts.json become node labels at setup (NODE_LABEL); an app selects one host or one role, since
// Swarm ANDs its constraints and cannot say "this node or that one".
import type { Placement } from '../config/cluster-rules.ts';
import { NODE_LABEL } from '../names.ts';

export function placementConstraints(placement: Placement, cluster: string): string[] {
  const inCluster = `node.labels.${NODE_LABEL.cluster} == ${cluster}`;
  if (placement.kind === 'host') return [inCluster, `node.labels.${NODE_LABEL.host} == ${placement.host}`];
  if (placement.kind === 'role') return [inCluster, `node.labels.${NODE_LABEL.role(placement.role)} == true`];
  return [inCluster];
}

/** The labels setup puts on a host's node: its name, its cluster, one per role. */
export function nodeLabels(host: string, cluster: string, roles: readonly string[]): Record<string, string> {
  const out: Record<string, string> = { [NODE_LABEL.cluster]: cluster, [NODE_LABEL.host]: host };
  for (const r of [...roles].sort()) out[NODE_LABEL.role(r)] = 'true';
  return out;
}
