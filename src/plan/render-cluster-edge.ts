// The edge on a cluster's managers (PURE): the per-host edge (render-edge.ts) plus what Traefik
// needs to route to Swarm tasks on any node: the swarm provider (read through the same read-only
// socket proxy, which also allows the swarm endpoints on a manager), the cluster's overlay network,
// and a file-provider servers transport with a short dial timeout (a dead node's task address is
// dropped by the active health check; until then a dial fails fast and the request is retried).
import YAML from 'yaml';
import type { Project } from '../config/schema.ts';
import { CLUSTER_NETWORK, CLUSTER_TRANSPORT, LABEL, SOCKET_PROXY_PORT, SOCKET_PROXY_SERVICE, TRAEFIK_SERVICE } from '../names.ts';
import { EDGE_CONFIG_FILE } from './app-facts.ts';
import { hashFiles, sha256 } from './hash.ts';
import { renderEdge } from './render-edge.ts';
import type { EdgeRender } from './types.ts';
import { generatedHeader, quoted, toYaml } from './yaml.ts';

/** How often Traefik asks the swarm for tasks (the swarm provider polls; it has no events). */
export const SWARM_REFRESH = '1s';

const firstComment = (text: string) => text.split('\n').filter((l) => l.startsWith('#')).map((l) => l.slice(1)).join('\n');

export function renderClusterStatic(staticYaml: string): string {
  const doc = YAML.parse(staticYaml) as { providers: Record<string, unknown> };
  doc.providers.swarm = {
    endpoint: `tcp://${SOCKET_PROXY_SERVICE}:${SOCKET_PROXY_PORT}`,
    exposedByDefault: false,
    network: CLUSTER_NETWORK,
    refreshSeconds: SWARM_REFRESH,
    // A colour scaled to 0 stays a service with no server (503), so its routes never dangle.
    allowEmptyServices: true,
    constraints: `Label(\`${LABEL.managed}\`,\`true\`)`,
  };
  return toYaml(doc, firstComment(staticYaml) + '\n Cluster edge: the swarm provider reads Berth\'s services (deploy.labels) from the managers\' API.');
}

export function renderClusterEdge(project: Project): EdgeRender {
  const base = renderEdge(project);
  const staticYaml = renderClusterStatic(base.files.find((f) => f.path === 'traefik.yml')!.content);
  const composeText = base.files.find((f) => f.path === 'compose.yml')!.content;
  const doc = YAML.parse(composeText) as { services: Record<string, Record<string, unknown>>; networks: Record<string, unknown> };
  const traefik = doc.services[TRAEFIK_SERVICE]!;
  traefik.networks = [...(traefik.networks as string[]), CLUSTER_NETWORK];
  (traefik.labels as Record<string, string>)['berth.static-config-hash'] = sha256(staticYaml).slice(0, 16);
  const proxy = doc.services[SOCKET_PROXY_SERVICE]!;
  // Read-only GETs of the swarm's services, tasks and nodes (POST stays 0).
  const env = proxy.environment as Record<string, unknown>;
  for (const k of ['NODES', 'SERVICES', 'TASKS']) env[k] = quoted('1');
  proxy.environment = Object.fromEntries(Object.keys(env).sort().map((k) => [k, env[k]]));
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') (proxy.environment as Record<string, unknown>)[k] = quoted(v);
  doc.networks = { ...doc.networks, [CLUSTER_NETWORK]: { external: true } };
  const files = [
    { path: 'compose.yml', content: toYaml(doc, firstComment(composeText) + '\n On a cluster manager: also on the cluster network, the swarm read through the socket proxy.') },
    { path: 'traefik.yml', content: staticYaml },
  ];
  return { files, configHash: hashFiles(files), secrets: base.secrets };
}

/** dynamic/berth.cluster.yml on every cluster edge: the servers transport the swarm services name. */
export function renderClusterTransport(): string {
  const doc = { http: { serversTransports: { [CLUSTER_TRANSPORT]: { forwardingTimeouts: { dialTimeout: '1s' } } } } };
  return toYaml(doc, generatedHeader(EDGE_CONFIG_FILE, 'Servers transport of the swarm services: a dead node\'s task fails its dial in 1s (then the request is retried).'));
}
