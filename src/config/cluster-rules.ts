// PURE rules for Docker Swarm clusters (hosts.json `clusters`) and the apps that opt in with
// `cluster: <name>`. Kept apart from rules.ts: a cluster changes what hosts/roles mean for an app
// (placement of its tasks, not hosts to deploy to), and these rules say so in one place.
import type { Issue } from '../errors.ts';
import type { App, ClusterConfig, Project } from './schema.ts';
import type { Rule } from './rules.ts';

const q = (s: string) => JSON.stringify(s);
const list = (xs: readonly string[]) => xs.join(', ');
const isUnder = (path: string, dir: string) => {
  const d = dir.replace(/\/+$/, '');
  return path === d || path.startsWith(`${d}/`);
};

/** The cluster an app runs on, when it names one that exists. */
export function clusterOf(project: Pick<Project, 'clusters'>, app: App): ClusterConfig | undefined {
  return app.config.cluster ? project.clusters?.[app.config.cluster] : undefined;
}

/** Hosts of hosts.json that are nodes of some cluster, with the cluster's name. */
export function clusterOfHost(project: Pick<Project, 'clusters'>, host: string): string | undefined {
  return Object.entries(project.clusters ?? {}).find(([, c]) => c.hosts.includes(host))?.[0];
}

/** Volumes that hold state a second task would fork: every volume but per-host caches, and any holding a Litestream database. */
export function stateVolumes(app: App): string[] {
  const dbs = app.config.litestream?.databases ?? [];
  return Object.entries(app.config.volumes)
    .filter(([vol, path]) => !app.config.per_host_volumes.includes(vol) || dbs.some((db) => isUnder(db, path)))
    .map(([vol]) => vol);
}

/** Accessories that keep data (volumes or a dump loop): one task, on the app's pinned node. */
export const statefulAccessories = (app: App) => Object.entries(app.config.accessories).filter(([, a]) => Object.keys(a.volumes).length || a.backup).map(([n]) => n);

/** Each cluster: known hosts with a private address, managers among them, no host in two clusters. */
export const clustersValid: Rule = ({ hosts, clusters }, files) => {
  const issues: Issue[] = [];
  const owner = new Map<string, string>();
  const hostNames = Object.keys(hosts).sort();
  for (const [name, c] of Object.entries(clusters ?? {})) {
    const at = `clusters.${name}`;
    c.hosts.forEach((h, i) => {
      if (!hosts[h]) {
        issues.push({ file: files.hosts, path: `${at}.hosts[${i}]`, expected: `a host from hosts (${list(hostNames)})`, found: q(h), hint: `add ${h} under hosts, or name one of them` });
        return;
      }
      if (!hosts[h]!.private_ip) {
        issues.push({
          file: files.hosts, path: `hosts.${h}.private_ip`, expected: `the private address of ${h}: swarm nodes reach each other there (${name} lists it)`, found: 'nothing',
          hint: `add "private_ip": "<its address on your private network>" to ${h}`,
        });
      }
      const prev = owner.get(h);
      if (prev && prev !== name) {
        issues.push({ file: files.hosts, path: `${at}.hosts[${i}]`, expected: 'a host that is in one cluster only (a Docker engine joins one swarm)', found: `${q(h)}, already in cluster ${q(prev)}`, hint: `remove ${h} from one of the two clusters` });
      }
      owner.set(h, name);
      if (c.hosts.indexOf(h) !== i) issues.push({ file: files.hosts, path: `${at}.hosts[${i}]`, expected: 'each host once', found: `${q(h)} twice`, hint: 'remove the duplicate' });
    });
    c.managers.forEach((m, i) => {
      if (!c.hosts.includes(m)) {
        issues.push({ file: files.hosts, path: `${at}.managers[${i}]`, expected: `one of the cluster's hosts (${list(c.hosts)})`, found: q(m), hint: `add ${m} to ${at}.hosts, or name a manager from them` });
      }
    });
    if (c.managers.length % 2 === 0) {
      issues.push({
        file: files.hosts, path: `${at}.managers`, expected: 'an odd number of managers (1, 3 or 5): Swarm keeps working while a majority of them is up',
        found: `${c.managers.length} managers`, hint: c.managers.length === 2 ? 'use 1 or 3 managers (2 managers survive no loss, 1 survives none either but is simpler)' : 'add or remove one manager',
      });
    }
  }
  return issues;
};

/** Where a cluster app's tasks may run: nothing (any node), one host, or one role. */
export type Placement = { kind: 'any' } | { kind: 'host'; host: string } | { kind: 'role'; role: string };

export function placementOf(app: App): Placement {
  const hosts = app.config.hosts ?? [];
  const roles = app.config.roles ?? [];
  if (hosts.length === 1 && !roles.length) return { kind: 'host', host: hosts[0]! };
  if (roles.length === 1 && !hosts.length) return { kind: 'role', role: roles[0]! };
  return { kind: 'any' };
}

/** Apps on a cluster: a cluster that exists, placement inside it, state pinned to one node, only what a swarm can run. */
export const clusterApps: Rule = ({ apps, hosts, clusters, edge }, files) => {
  const issues: Issue[] = [];
  const names = Object.keys(clusters ?? {}).sort();
  {
    for (const app of apps) {
      const c = app.config;
      if (!c.cluster) {
        const wants = [c.replicas && c.replicas > 1 ? 'replicas' : '', ...Object.entries(c.workers).filter(([, w]) => (w.replicas ?? 1) > 1).map(([n]) => `workers.${n}.replicas`)].filter(Boolean);
        for (const path of wants) {
          issues.push({
            file: app.file, path, expected: 'one task per host (more than one needs a cluster: Docker Swarm spreads and reschedules them)', found: 'more than 1',
            hint: names.length ? `add cluster: ${names[0]} (hosts.json clusters)` : 'define a cluster in hosts.json (clusters: { main: { engine: swarm, hosts: [...], managers: [...] } }) and add cluster: main, or drop replicas',
          });
        }
        continue;
      }
      const cluster = clusters?.[c.cluster];
      if (!cluster) {
        issues.push({ file: app.file, path: 'cluster', expected: names.length ? `a cluster from ${files.hosts} (${list(names)})` : `a cluster defined in ${files.hosts} (it defines none)`, found: q(c.cluster), hint: `add clusters: { ${c.cluster}: { engine: swarm, hosts: [...], managers: [...] } } to ${files.hosts}, or name one of its clusters` });
        continue;
      }
      const clusterHosts = cluster.hosts;
      (c.hosts ?? []).forEach((h, i) => {
        if (hosts[h] && !clusterHosts.includes(h)) issues.push({ file: app.file, path: `hosts[${i}]`, expected: `a node of cluster ${c.cluster} (${list(clusterHosts)})`, found: q(h), hint: `add ${h} to clusters.${c.cluster}.hosts, or pin the app to one of its nodes` });
      });
      (c.roles ?? []).forEach((r, i) => {
        if (!clusterHosts.some((h) => hosts[h]?.roles.includes(r))) issues.push({ file: app.file, path: `roles[${i}]`, expected: `a role some node of cluster ${c.cluster} has`, found: q(r), hint: `give a node of ${c.cluster} roles: [${q(r)}] in ${files.hosts}` });
      });
      const nHosts = c.hosts?.length ?? 0;
      const nRoles = c.roles?.length ?? 0;
      if (nHosts + nRoles > 1) {
        issues.push({
          file: app.file, path: nHosts > 1 ? 'hosts' : 'roles', expected: 'on a cluster, at most one host or one role: Swarm places tasks by node labels, which cannot say "this host or that one"',
          found: `${nHosts} host(s) and ${nRoles} role(s)`, hint: 'give the nodes you want a common role (hosts.json roles) and select it with roles: [<role>], or pin the app with hosts: [<one host>]',
        });
      }
      const replicas = c.replicas ?? 1;
      const state = stateVolumes(app);
      if (replicas > 1 && state.length) {
        const db = c.litestream ? ' (its SQLite databases would be opened by several processes, each on its own node with its own copy)' : '';
        issues.push({
          file: app.file, path: 'replicas', expected: 'replicas: 1 for an app with a database volume: a volume is local to the node its task runs on',
          found: `replicas: ${replicas} with volume(s) ${list(state)}${db}`,
          hint: 'keep the data in a PostgreSQL accessory (accessories: { db: { image: postgres:16 } }, reached by name) and drop the volume, or list a cache volume in per_host_volumes; else set replicas: 1',
        });
      }
      const stateful = [...state.map((v) => `volume ${v}`), ...(c.litestream ? ['litestream'] : []), ...statefulAccessories(app).map((a) => `accessory ${a}`)];
      if (stateful.length && !(nHosts === 1 && nRoles === 0)) {
        issues.push({
          file: app.file, path: 'hosts', expected: 'an app with data on a cluster pinned to one node (hosts: [<node>]): Swarm would otherwise start its task on another node, with an empty volume',
          found: `${list(stateful)} and ${nHosts + nRoles ? 'a role' : 'no'} placement`, hint: `add hosts: [${q(clusterHosts[0]!)}] (one of ${list(clusterHosts)})`,
        });
      }
      // Per-process placement (placement.ts) is the per-host engine's; on a cluster the app's own hosts/roles place every task.
      const perProcess = [
        ...(c.web ? ['web'] : []),
        ...Object.entries(c.workers).filter(([, w]) => w.hosts !== undefined || w.roles !== undefined).map(([n]) => `workers.${n}`),
        ...Object.entries(c.accessories).filter(([, a]) => a.host !== undefined || a.hosts !== undefined || a.roles !== undefined).map(([n]) => `accessories.${n}`),
      ];
      for (const path of perProcess) {
        issues.push({ file: app.file, path, expected: "no per-process hosts/roles on a cluster (not mapped to Swarm constraints yet): the app's own hosts/roles place all its tasks", found: 'hosts/roles of its own', hint: 'drop them and place the app with hosts: [<one node>] or roles: [<one role>], or deploy it per host' });
      }
      if (c.build?.on === 'host') {
        issues.push({ file: app.file, path: 'build.on', expected: 'build.on: local on a cluster: one image for every node (pulled from the registry, or shipped over SSH with registry: none)', found: '"host"', hint: 'set build: { on: local }, with registry: { server, username, password_secret } or registry: none' });
      }
      if (c.asset_path) {
        issues.push({ file: app.file, path: 'asset_path', expected: 'no asset_path on a cluster (asset bridging keeps per-host folders; not available on Swarm yet)', found: q(c.asset_path), hint: 'serve fingerprinted assets from a CDN or object storage, or deploy the app per host' });
      }
      for (const [name, acc] of Object.entries(c.accessories)) {
        if (acc.port) {
          issues.push({ file: app.file, path: `accessories.${name}.port`, expected: 'no published port on a cluster: Swarm cannot bind an address such as 127.0.0.1, so the port would open on every interface', found: q(acc.port), hint: `drop port: the app reaches ${name} by name on its own overlay network` });
        }
        for (const [k, v] of Object.entries(acc.env)) {
          if (typeof v === 'string' && /(^|[^$])\$\{[A-Za-z_]/.test(v)) {
            issues.push({ file: app.file, path: `accessories.${name}.env.${k}`, expected: 'a plain value on a cluster (an interpolated secret would be stored in the service spec, readable with docker service inspect)', found: q(v), hint: `list the secret under accessories.${name}.secrets: it is mounted as /run/secrets/<NAME> and <NAME>_FILE points at it` });
          }
        }
      }
      const dns01 = c.tls.mode === 'acme' && edge.acme.resolvers[c.tls.resolver]?.challenge === 'dns-01';
      if (dns01 && cluster.managers.length > 1) {
        issues.push({ file: app.file, path: 'tls.resolver', expected: 'an HTTP-01 or TLS-ALPN-01 resolver on a cluster with several managers (one shared DNS-01 certificate across the edges is not implemented for clusters yet; each edge would order its own)', found: q(c.tls.mode === 'acme' ? c.tls.resolver : ''), hint: 'use an http-01 resolver, tls: { mode: origin-certificate }, or one manager' });
      }
    }
  }
  return issues;
};

/** The cluster rules, in the shape of RULES (rules.ts). */
export const CLUSTER_RULES: readonly Rule[] = [clustersValid, clusterApps];

/**
 * Hosts that hold an app's release records, lock and history: its hosts, or for a cluster app the
 * cluster's first manager (the Swarm engine keeps the state there).
 */
export function stateHostsOf(project: Pick<Project, 'clusters' | 'hosts'>, app: App, perHost: () => string[]): string[] {
  const c = clusterOf(project, app);
  return c ? [c.managers[0]!] : perHost();
}

/** Edge hosts routing an app: a cluster app's managers; else none beyond its own hosts. */
export const clusterEdgesOf = (project: Pick<Project, 'clusters'>, app: App): string[] => clusterOf(project, app)?.managers ?? [];
