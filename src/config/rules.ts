// PURE cross-field and cross-file rules, run after every file passed its schema. Each rule is a
// small function (project) => Issue[]; adding a check means adding a function to RULES.
import type { Issue } from '../errors.ts';
import type { App, HostConfig, Project } from './schema.ts';
import { closest } from './closest.ts';
import { backupService, COLOURS, LITESTREAM_SERVICE, parseS3Url, RELEASE_SERVICE, replicaPath, TRAEFIK_API_PORT, webService } from '../names.ts';
import { CLUSTER_RULES } from './cluster-rules.ts';
import { pathPrefixes } from '../plan/app-facts.ts';
import { CLOUDFLARE, dnsCredentials, dnsResolverEnv, PROPAGATION_SUFFIX, UNSUPPORTED_PROVIDERS } from './dns-provider.ts';
import { LEGO, providerVariable, providerVariables } from './lego-table.ts';
import { accessoryEnvNames, accessoryHostKeys, parsePortBinding, placeApp, publishedBinding, remoteUsers, sharedAccessories, type PortBinding } from '../plan/placement.ts';
import { registryOf } from './registry.ts';
import { byText } from '../text-order.ts';

/** Where the shared files came from (load.ts may find edge.yaml or edge.json, or BERTH_HOSTS_FILE). */
export interface RuleFiles {
  hosts: string;
  edge: string;
  /** Whether a file (absolute path) exists on the operator machine; file checks are skipped without it. */
  exists?: (path: string, kind: 'file' | 'dir') => boolean;
}
export const DEFAULT_FILES: RuleFiles = { hosts: 'hosts.json', edge: 'shared/edge.yml' };

export type Rule = (project: Project, files: RuleFiles) => Issue[];

const q = (s: string) => JSON.stringify(s);
const list = (xs: readonly string[]) => xs.join(', ');
const didYouMean = (value: string, candidates: readonly string[]) => {
  const c = closest(value, candidates);
  return c ? `did you mean ${q(c)}?` : undefined;
};

/** Host names (from hosts.json) an app deploys to: its `hosts`, plus every host having one of its `roles`. */
export function selectHosts(app: App, hosts: Record<string, HostConfig>): string[] {
  const selected = new Set<string>();
  for (const h of app.config.hosts ?? []) if (hosts[h]) selected.add(h);
  const roles = app.config.roles ?? [];
  for (const [name, host] of Object.entries(hosts)) {
    if (host.roles.some((r) => roles.includes(r))) selected.add(name);
  }
  return [...selected].sort();
}

/** "*.example.com": served by one wildcard certificate, which only DNS-01 can obtain. */
export const isWildcard = (domain: string) => domain.startsWith('*.');

/** Every name an app's router claims: each domain, plus its www. form unless `www: none`. */
export function claimedDomains(app: App): { domain: string; path: string }[] {
  const out: { domain: string; path: string }[] = [];
  app.config.domains.forEach((d, i) => {
    out.push({ domain: d, path: `domains[${i}]` });
    if (app.config.www !== 'none' && !d.startsWith('www.') && !isWildcard(d)) out.push({ domain: `www.${d}`, path: `domains[${i}]` });
  });
  return out;
}

// ---------------------------------------------------------------- the rules

/**
 * One domain (or its www. alias) routed to two apps would make Traefik pick one at random. With
 * path_prefix, two apps share a domain under different prefixes (the longest prefix wins); the same
 * domain AND prefix claimed twice is refused.
 */
export const uniqueDomains: Rule = ({ apps }) => {
  const owner = new Map<string, { app: App; path: string }>();
  const issues: Issue[] = [];
  for (const app of apps) {
    const prefixes = pathPrefixes(app.config);
    const listed = typeof app.config.path_prefix !== 'string';
    const under = prefixes.length ? prefixes.map((p, i) => ({ p, path: listed ? `path_prefix[${i}]` : 'path_prefix' })) : [{ p: '', path: '' }];
    for (const { domain, path: domainPath } of claimedDomains(app)) {
      for (const { p, path: prefixPath } of under) {
        const key = `${domain}${p}`;
        const path = prefixPath || domainPath;
        const prev = owner.get(key);
        if (prev && prev.app !== app) {
          issues.push(
            p
              ? {
                  file: app.file,
                  path,
                  expected: 'a domain and path prefix no other app claims',
                  found: q(key),
                  hint: `${q(key)} is already routed to ${prev.app.name} (${prev.app.file}: ${prev.path}); give one of them another path_prefix (a longer one nests: "${p}/admin" beside "${p}" is fine)`,
                }
              : {
                  file: app.file,
                  path,
                  expected: 'a domain no other app claims',
                  found: q(domain),
                  hint: `${q(domain)} is already routed to ${prev.app.name} (${prev.app.file}: ${prev.path})${pathPrefixes(prev.app.config).length ? '' : '; to share the domain, give one of them a path_prefix'}`,
                },
          );
        } else if (!prev) owner.set(key, { app, path });
      }
    }
  }
  return issues;
};

/**
 * Apps sharing a domain under different path prefixes share its certificate and its HTTP→HTTPS
 * redirect, so they must agree on tls: otherwise Traefik would serve one app's certificate for the
 * other, or redirect one path and serve another in plain HTTP.
 */
export const sharedDomainsAgree: Rule = ({ apps }) => {
  const first = new Map<string, App>();
  const issues: Issue[] = [];
  for (const app of apps) {
    const reported = new Set<string>();
    for (const { domain } of claimedDomains(app)) {
      const prev = first.get(domain);
      if (!prev) {
        first.set(domain, app);
        continue;
      }
      if (prev === app || JSON.stringify(prev.config.tls) === JSON.stringify(app.config.tls) || reported.has(prev.name)) continue;
      reported.add(prev.name);
      issues.push({
        file: app.file,
        path: 'tls',
        expected: `the same tls as ${prev.name} (${prev.file}), which serves ${q(domain)} too: ${JSON.stringify(prev.config.tls)}`,
        found: JSON.stringify(app.config.tls),
        hint: 'apps on one domain share its certificate and its redirect to HTTPS; give both the same tls',
      });
    }
  }
  return issues;
};

/** Traefik's buffering middleware buffers requests and responses together, and enforces limits while it buffers. */
export const bufferingCoherent: Rule = ({ apps }) => {
  const issues: Issue[] = [];
  for (const app of apps) {
    const b = app.config.buffering;
    if (!b) continue;
    if (b.requests !== b.responses) {
      issues.push({
        file: app.file,
        path: 'buffering.responses',
        expected: `the same value as buffering.requests (${b.requests}): Traefik's buffering middleware buffers requests and responses together`,
        found: String(b.responses),
        hint: 'set both to true (limits, slow clients kept off the app; server-sent events are held back until they end) or both to false (streaming)',
      });
    }
    for (const [key, on, what] of [['max_request_body', b.requests, 'requests'], ['max_response_body', b.responses, 'responses']] as const) {
      if (!on && b[key] !== 0 && b[key] !== '0b' && b[key] !== '0B') {
        issues.push({
          file: app.file,
          path: `buffering.${key}`,
          expected: `a limit only with buffering.${what}: true (the edge enforces it while buffering)`,
          found: JSON.stringify(b[key]),
          hint: 'set buffering.requests and buffering.responses to true, or remove the limit',
        });
      }
    }
  }
  return issues;
};

/** Hosts named by an app exist; roles select at least one host; an app deploys somewhere. */
export const appHostsExist: Rule = ({ apps, hosts }) => {
  const issues: Issue[] = [];
  const hostNames = Object.keys(hosts).sort();
  const allRoles = [...new Set(Object.values(hosts).flatMap((h) => h.roles))].sort();
  for (const app of apps) {
    const { hosts: named, roles } = app.config;
    if (!named?.length && !roles?.length && !app.config.cluster) {
      issues.push({
        file: app.file,
        path: 'hosts',
        expected: `hosts (from hosts.json: ${list(hostNames)}) or roles selecting at least one host`,
        found: 'nothing',
        hint: hostNames[0] ? `add e.g. hosts: [${hostNames[0]}]` : undefined,
      });
      continue;
    }
    named?.forEach((h, i) => {
      if (hosts[h]) return;
      issues.push({
        file: app.file,
        path: `hosts[${i}]`,
        expected: `a host from hosts.json (${list(hostNames)})`,
        found: q(h),
        hint: didYouMean(h, hostNames) ?? 'add it to hosts.json',
      });
    });
    roles?.forEach((r, i) => {
      if (allRoles.includes(r)) return;
      issues.push({
        file: app.file,
        path: `roles[${i}]`,
        expected: allRoles.length ? `a role some host in hosts.json has (${list(allRoles)})` : 'a role some host in hosts.json has (no host has roles)',
        found: q(r),
        hint: didYouMean(r, allRoles) ?? `give a host in hosts.json roles: [${q(r)}]`,
      });
    });
    issues.push(...processHostIssues(app, hosts, hostNames, allRoles));
  }
  return issues;
};

/** Per-process placement (web, workers, accessories): every host named exists, every role selects one, none ends up nowhere. */
function processHostIssues(app: App, hosts: Record<string, HostConfig>, hostNames: string[], allRoles: string[]): Issue[] {
  const issues: Issue[] = [];
  const c = app.config;
  const check = (path: string, keys: { host?: string; hosts?: string[]; roles?: string[] } | undefined, what: string) => {
    if (!keys) return;
    const named = [...(keys.host !== undefined ? [{ h: keys.host, p: `${path}.host` }] : []), ...(keys.hosts ?? []).map((h, i) => ({ h, p: `${path}.hosts[${i}]` }))];
    for (const { h, p } of named) {
      if (hosts[h]) continue;
      issues.push({ file: app.file, path: p, expected: `a host from hosts.json (${list(hostNames)})`, found: q(h), hint: didYouMean(h, hostNames) ?? 'add it to hosts.json' });
    }
    (keys.roles ?? []).forEach((r, i) => {
      if (allRoles.includes(r)) return;
      issues.push({ file: app.file, path: `${path}.roles[${i}]`, expected: `a role some host in hosts.json has (${list(allRoles) || 'no host has roles'})`, found: q(r), hint: didYouMean(r, allRoles) ?? `give a host in hosts.json roles: [${q(r)}]` });
    });
    const given = keys.host !== undefined || keys.hosts !== undefined || keys.roles !== undefined;
    if (given && !named.length && !(keys.roles ?? []).length) {
      issues.push({ file: app.file, path, expected: `at least one host for ${what} (hosts or roles)`, found: 'an empty list', hint: `name a host, e.g. hosts: [${q(hostNames[0] ?? 'web1')}], or remove the key to use the app's hosts` });
    }
  };
  check('web', c.web, 'the web colours');
  for (const [w, spec] of Object.entries(c.workers)) check(`workers.${w}`, spec, `worker ${w}`);
  for (const [a, spec] of Object.entries(c.accessories)) {
    const keys = accessoryHostKeys(spec);
    check(`accessories.${a}`, keys ? { ...(spec.host !== undefined ? { host: spec.host } : {}), hosts: spec.hosts, roles: spec.roles } : undefined, `accessory ${a}`);
  }
  return issues;
}

const isUnder = (path: string, dir: string) => {
  const d = dir.replace(/\/+$/, '');
  return path === d || path.startsWith(`${d}/`);
};

/** Litestream replicates files the app writes to a volume; a database outside one is lost on every deploy. */
export const litestreamOnVolume: Rule = ({ apps }) => {
  const issues: Issue[] = [];
  for (const app of apps) {
    const dbs = app.config.litestream?.databases ?? [];
    const mounts = Object.values(app.config.volumes);
    dbs.forEach((db, i) => {
      if (mounts.some((m) => isUnder(db, m))) return;
      const dir = db.slice(0, db.lastIndexOf('/')) || '/';
      issues.push({
        file: app.file,
        path: `litestream.databases[${i}]`,
        expected: mounts.length ? `a path under a declared volume (${list(mounts)})` : 'a path under a declared volume (the app declares none)',
        found: q(db),
        hint: `declare a volume mounted at its directory, e.g. volumes: { data: ${dir} }`,
      });
    });
  }
  return issues;
};

/**
 * A named volume lives on one server. An app on several hosts would get one copy per host: for
 * SQLite, a separate database on each, silently diverging. Berth has no shared storage, so such a
 * config is refused unless the volume is declared a per-host cache; accessories (e.g. Postgres)
 * likewise, since each host would run its own server with its own data.
 */
export const stateOnOneHost: Rule = ({ apps, hosts }) => {
  const issues: Issue[] = [];
  for (const app of apps) {
    if (app.config.cluster) continue; // a cluster pins state to one node: cluster-rules.ts
    const p = placeApp(app, hosts);
    // The app's volumes are mounted by every process running its image (web and workers).
    const on = p.imageHosts;
    if (on.length >= 2) {
      const fix = `run the processes that use it on one host (the primary, e.g. hosts: [${q(on[0]!)}], or per-process hosts under web/workers) and keep the other hosts for stateless apps, or keep the data in a database accessory on one host that every host reaches (accessories.<name>.host; Berth sets <NAME>_HOST/<NAME>_PORT) instead of a volume`;
      const dbs = app.config.litestream?.databases ?? [];
      for (const [vol, path] of Object.entries(app.config.volumes)) {
        const perHost = app.config.per_host_volumes.includes(vol);
        const holdsDb = dbs.some((db) => isUnder(db, path));
        if (perHost && !holdsDb) continue;
        issues.push({
          file: app.file,
          path: `volumes.${vol}`,
          expected: 'a volume on one host: volumes are local to a server',
          found: `${q(path)} on ${list(on)}, each host with its own copy${holdsDb ? ' of the Litestream-replicated databases (and all of them writing one replica)' : ''}`,
          hint: holdsDb ? fix : `${fix}; or, for a cache that may differ per host, list it in per_host_volumes`,
        });
      }
    }
    // A stateful accessory lives on exactly one host; the others reach it over the private network.
    for (const [name, acc] of Object.entries(app.config.accessories)) {
      const accOn = p.accessories[name] ?? [];
      if (accOn.length < 2 || (!Object.keys(acc.volumes).length && !acc.backup)) continue;
      issues.push({
        file: app.file,
        path: `accessories.${name}`,
        expected: 'a stateful accessory (volumes or backup) on one host',
        found: `${q(name)} would run on ${list(accOn)}, each with its own data`,
        hint: `give it one host, e.g. host: ${q(accOn[0]!)}: the app's processes on the other hosts reach it at that host's private_ip (Berth sets ${accessoryEnvNames(name).host}/${accessoryEnvNames(name).port})`,
      });
    }
  }
  return issues;
};

/** The merged assets are mounted at asset_path; a declared volume at, over or under it would shadow them or be shadowed. */
export const assetPathOffVolumes: Rule = ({ apps }) => {
  const issues: Issue[] = [];
  for (const app of apps) {
    const ap = app.config.asset_path;
    if (!ap) continue;
    for (const [vol, mount] of Object.entries(app.config.volumes)) {
      if (!isUnder(ap, mount) && !isUnder(mount, ap)) continue;
      issues.push({
        file: app.file,
        path: 'asset_path',
        expected: `a directory apart from the declared volumes (volume ${q(vol)} is mounted at ${q(mount)})`,
        found: q(ap),
        hint: 'keep compiled assets in the image (e.g. /rails/public/assets) and out of volumes',
      });
    }
  }
  return issues;
};

/**
 * An accessory is a compose service named as in the config: a name Berth gives its own services
 * (a colour, the release command's, the replicator, a worker's, another accessory's backup loop)
 * would make two services one.
 */
export const accessoryNamesFree: Rule = ({ apps }) => {
  const issues: Issue[] = [];
  for (const app of apps) {
    const accessories = app.config.accessories;
    const berths = new Map<string, string>([...COLOURS.map((c) => [webService(c), `the ${c} web colour`] as const), [RELEASE_SERVICE, "the release command's service"], [LITESTREAM_SERVICE, 'the Litestream replicator']]);
    for (const [a, acc] of Object.entries(accessories)) if (acc.backup) berths.set(backupService(a), `accessory ${a}'s backup loop`);
    for (const name of Object.keys(accessories)) {
      const taken = berths.get(name) ?? (name.startsWith('worker-') ? "a worker's service" : undefined);
      if (!taken) continue;
      issues.push({
        file: app.file,
        path: `accessories.${name}`,
        expected: `an accessory name Berth does not give a service of its own (${q(name)} is ${taken})`,
        found: q(name),
        hint: 'rename the accessory',
      });
    }
  }
  return issues;
};

/** per_host_volumes names volumes the app declares. */
export const perHostVolumesDeclared: Rule = ({ apps }) =>
  apps.flatMap((app) =>
    app.config.per_host_volumes
      .map((v, i) => ({ v, i }))
      .filter(({ v }) => !(v in app.config.volumes))
      .map(({ v, i }) => ({
        file: app.file,
        path: `per_host_volumes[${i}]`,
        expected: `one of the app's volumes (${list(Object.keys(app.config.volumes)) || 'none declared'})`,
        found: q(v),
        hint: didYouMean(v, Object.keys(app.config.volumes)) ?? 'declare it under volumes, or remove it here',
      })),
  );


/** A published port must be bound to one address: Docker-published ports bypass UFW. */
export const accessoryPortsPrivate: Rule = ({ apps, hosts }) => {
  const issues: Issue[] = [];
  for (const app of apps) {
    const placed = placeApp(app, hosts);
    const shared = sharedAccessories(placed);
    for (const [name, acc] of Object.entries(app.config.accessories)) {
      // Placed nowhere (its hosts are unknown: reported by appHostsExist): where it binds is moot.
      if (!acc.port || !placed.accessories[name]?.length) continue;
      const b = parsePortBinding(acc.port);
      // One other hosts reach is published on its host's private_ip (sharedAccessoryPorts checks it).
      if (!b || b.ip !== '0.0.0.0' || shared.includes(name)) continue;
      issues.push({
        file: app.file,
        path: `accessories.${name}.port`,
        expected: `a port bound to one address such as ${q(`127.0.0.1:${b.hostPort}:${b.containerPort}`)}`,
        found: q(acc.port),
        hint: 'bind to 127.0.0.1: (or to one specific address when it must be reachable): Docker-published ports bypass UFW',
      });
    }
  }
  return issues;
};

/** The SSH port of a host ("user@address:port", default 22). */
export const sshPort = (host: HostConfig) => Number(/:(\d+)$/.exec(host.ssh)?.[1] ?? 22);

/**
 * Two listeners on one host port of one host: the second container would fail to start (or sshd
 * would lose its port). Claims: sshd, Traefik's entrypoints and its API (127.0.0.1 only), then
 * every published accessory port of every app on that host.
 */
export const uniqueHostPorts: Rule = ({ apps, hosts, edge }, files) => {
  interface Claim extends PortBinding {
    who: string;
  }
  const issues: Issue[] = [];
  const overlaps = (a: PortBinding, b: PortBinding) => a.hostPort === b.hostPort && (a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0');
  const edgeClaims = (): Claim[] => [
    { ip: '127.0.0.1', hostPort: TRAEFIK_API_PORT, containerPort: TRAEFIK_API_PORT, who: `Traefik's API (127.0.0.1:${TRAEFIK_API_PORT}, fixed)` },
    { ip: '0.0.0.0', hostPort: edge.entrypoints.http, containerPort: 0, who: `Traefik's http entrypoint (${files.edge}: entrypoints.http)` },
    { ip: '0.0.0.0', hostPort: edge.entrypoints.https, containerPort: 0, who: `Traefik's https entrypoint (${files.edge}: entrypoints.https)` },
  ];
  // The edge's own ports, once (they are the same on every host).
  const edgeSeen: Claim[] = [];
  for (const c of edgeClaims()) {
    const clash = edgeSeen.find((p) => overlaps(p, c));
    if (clash) {
      const key = c.who.includes('https') ? 'entrypoints.https' : 'entrypoints.http';
      issues.push({
        file: files.edge,
        path: key,
        expected: `a host port no other listener of the edge uses`,
        found: String(c.hostPort),
        hint: `${clash.who} already listens on ${clash.ip}:${clash.hostPort}; pick another port (e.g. ${c.hostPort === 8080 ? 8000 : c.hostPort + 1})`,
      });
    }
    edgeSeen.push(c);
  }
  const byHost = new Map<string, Claim[]>();
  for (const [h, host] of Object.entries(hosts)) {
    const ssh: Claim = { ip: '0.0.0.0', hostPort: sshPort(host), containerPort: 0, who: `sshd (${files.hosts}: hosts.${h}.ssh)` };
    const claims = [ssh];
    for (const c of edgeClaims()) {
      if (overlaps(c, ssh) && !c.who.startsWith("Traefik's API")) {
        issues.push({
          file: files.edge,
          path: c.who.includes('https') ? 'entrypoints.https' : 'entrypoints.http',
          expected: `a port other than ${h}'s SSH port`,
          found: String(c.hostPort),
          hint: `${files.hosts}: hosts.${h}.ssh connects to port ${ssh.hostPort}; pick another entrypoint port`,
        });
      }
      claims.push(c);
    }
    byHost.set(h, claims);
  }
  for (const app of apps) {
    const placed = placeApp(app, hosts);
    for (const [name, acc] of Object.entries(app.config.accessories)) {
      const path = `accessories.${name}.port`;
      const reported = new Set<string>();
      for (const host of placed.accessories[name] ?? []) {
        // What is published there: a shared accessory on the host's private_ip.
        const port = publishedBinding(app, placed, hosts, name, host);
        const b = port ? parsePortBinding(port) : undefined;
        if (!port || !b) continue;
        const claims = byHost.get(host)!;
        const clash = claims.find((c) => overlaps(c, b));
        if (clash && !reported.has(clash.who)) {
          reported.add(clash.who);
          issues.push({
            file: app.file,
            path,
            expected: `a host port not already published on ${host}`,
            found: port === acc.port ? q(port) : `${q(acc.port ?? '')} (published as ${q(port)} on ${host}'s private_ip)`,
            hint: `${clash.who} publishes ${clash.ip}:${clash.hostPort} there; pick another host port`,
          });
        }
        claims.push({ ...b, who: `${app.file}: ${path}` });
      }
    }
  }
  return issues;
};

/**
 * An accessory that processes on other hosts reach: it publishes a port, bound to no address or to its
 * host's private_ip (Berth publishes it there, never on 127.0.0.1 or a public address), every host on
 * either end has a private_ip (the address it is reached at, and the one its firewall admits), and
 * the app's env does not hard-wire the names Berth sets or the accessory's service name (which other
 * hosts cannot resolve).
 */
export const sharedAccessoryPorts: Rule = ({ apps, hosts }, files) => {
  const issues: Issue[] = [];
  const missingIp = new Map<string, string[]>(); // host → why it needs a private_ip (reported once per host)
  for (const app of apps) {
    const p = placeApp(app, hosts);
    for (const name of sharedAccessories(p)) {
      const acc = app.config.accessories[name]!;
      const users = remoteUsers(p, name);
      const on = p.accessories[name]!;
      const path = `accessories.${name}.port`;
      const names = accessoryEnvNames(name);
      const b = acc.port ? parsePortBinding(acc.port) : undefined;
      if (!acc.port) {
        issues.push({
          file: app.file,
          path,
          expected: `a published port: the app's processes on ${list(users)} reach ${name} on ${list(on)} over the private network`,
          found: 'nothing',
          hint: `e.g. port: "5432:5432" (Berth publishes it on ${on[0]}'s private_ip only)`,
        });
      } else if (b && b.ip !== '0.0.0.0' && !on.every((h) => hosts[h]?.private_ip === b.ip)) {
        issues.push({
          file: app.file,
          path,
          expected: `no address (Berth publishes it on the private_ip of ${list(on)}) or that private_ip: ${list(users)} reach it from other hosts`,
          found: q(acc.port),
          hint: `write port: "${b.hostPort}:${b.containerPort}"${b.ip === '127.0.0.1' ? ` (127.0.0.1 answers only on ${list(on)} itself)` : ''}`,
        });
      }
      // The hosts reaching it need one too once its host is hardened (its firewall admits them by it):
      // setup --harden asks for it (accessoryOpeningIssues).
      for (const h of on) (missingIp.get(h) ?? missingIp.set(h, []).get(h)!).push(`${app.name}'s accessory ${name} runs there and ${list(users)} reach it`);
      for (const key of [names.host, names.port]) {
        if (!(key in app.config.env)) continue;
        issues.push({
          file: app.file,
          path: `env.${key}`,
          expected: `no ${key}: Berth sets it on every host to where ${name} is reached from there`,
          found: q(String(app.config.env[key])),
          hint: `remove env.${key}; the app reads ${names.host} and ${names.port}`,
        });
      }
      for (const [key, v] of Object.entries(app.config.env)) {
        if (key === names.host || String(v) !== name) continue;
        issues.push({
          file: app.file,
          path: `env.${key}`,
          expected: `an address ${list(users)} can reach: ${q(name)} resolves only on ${list(on)}`,
          found: q(String(v)),
          hint: `read ${names.host} (and ${names.port}) in the app instead: Berth sets them to ${name}'s address from each host`,
        });
      }
    }
  }
  for (const [h, why] of [...missingIp].sort(([a], [b]) => byText(a, b))) {
    if (hosts[h]?.private_ip) continue;
    issues.push({
      file: files.hosts,
      path: `hosts.${h}.private_ip`,
      expected: `the address of ${h} on the private network between your servers: ${[...new Set(why)].join('; ')}`,
      found: 'nothing',
      hint: `add "private_ip": "10.0.0.x" (its vSwitch/VPC address) to ${h}`,
    });
  }
  return issues;
};

/**
 * Before `setup --harden` writes the firewall of `host`: every host reaching one of its shared
 * accessories has a private_ip (the address the firewall admits). Pure; empty when all is known.
 */
export function accessoryOpeningIssues(project: Pick<Project, 'apps' | 'hosts'>, host: string, files: Pick<RuleFiles, 'hosts'> = DEFAULT_FILES): Issue[] {
  const issues: Issue[] = [];
  for (const app of project.apps) {
    const p = placeApp(app, project.hosts);
    for (const name of sharedAccessories(p)) {
      if (!p.accessories[name]!.includes(host)) continue;
      for (const h of p.imageHosts.filter((x) => x !== host && !project.hosts[x]?.private_ip)) {
        issues.push({
          file: files.hosts,
          path: `hosts.${h}.private_ip`,
          expected: `the address of ${h} on the private network: the firewall of ${host} admits ${app.name}'s hosts to ${name} by their private_ip`,
          found: 'nothing',
          hint: `add "private_ip" to ${h} (its vSwitch/VPC address), then rerun setup -- ${host} --harden`,
        });
      }
    }
  }
  return issues;
}

/** Every secret name a config uses, with where it is used (key path). */
export function usedSecrets(app: App): { name: string; path: string }[] {
  const c = app.config;
  const used: { name: string; path: string }[] = [];
  const reg = registryOf(c);
  if (reg) used.push({ name: reg.password_secret, path: 'registry.password_secret' });
  if (c.litestream) {
    used.push({ name: c.litestream.replica.access_key_id_secret, path: 'litestream.replica.access_key_id_secret' });
    used.push({ name: c.litestream.replica.secret_access_key_secret, path: 'litestream.replica.secret_access_key_secret' });
  }
  if (c.tls.mode === 'origin-certificate') used.push({ name: c.tls.key_secret, path: 'tls.key_secret' });
  for (const [k, v] of Object.entries(c.env)) for (const n of envReferences(v)) used.push({ name: n, path: `env.${k}` });
  for (const [acc, a] of Object.entries(c.accessories)) {
    a.secrets.forEach((n, i) => used.push({ name: n, path: `accessories.${acc}.secrets[${i}]` }));
    for (const [k, v] of Object.entries(a.env)) for (const n of envReferences(v)) used.push({ name: n, path: `accessories.${acc}.env.${k}` });
  }
  return used;
}

/** `${NAME}` references in an env value (compose-style; `$${NAME}` is an escaped literal). */
export function envReferences(value: string | number | boolean): string[] {
  if (typeof value !== 'string') return [];
  const out: string[] = [];
  for (const m of value.matchAll(/(\$*)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    if (m[1]!.length % 2 === 0) out.push(m[2]!);
  }
  return out;
}

/** Secret names an app declares: `secrets` plus `secret_commands` keys. */
export const declaredSecrets = (app: App) => [...new Set([...app.config.secrets, ...Object.keys(app.config.secret_commands)])].sort();

/** A secret used but never declared would be empty at deploy time. */
export const secretsDeclared: Rule = ({ apps }) => {
  const issues: Issue[] = [];
  for (const app of apps) {
    const declared = declaredSecrets(app);
    const envKeys = Object.keys(app.config.env);
    for (const { name, path } of usedSecrets(app)) {
      if (declared.includes(name)) continue;
      const isEnv = path.startsWith('env.') && envKeys.includes(name);
      issues.push({
        file: app.file,
        path,
        expected: declared.length ? `a declared secret (${list(declared)})` : 'a declared secret (the app declares none)',
        found: q(name),
        hint: isEnv
          ? `\${${name}} interpolates secrets only; list ${name} under secrets or repeat its value`
          : (didYouMean(name, declared) ?? `add ${name} to secrets (or to secret_commands)`),
      });
    }
  }
  return issues;
};

/**
 * An accessory's env is its container's env: compose would fill `${NAME}` in from the secret's value,
 * and `docker inspect` would show it. Secrets reach accessories as files only (NAME_FILE).
 */
export const accessoryEnvWithoutSecrets: Rule = ({ apps }) => {
  const issues: Issue[] = [];
  // An app on a cluster: cluster-rules.ts says it in Swarm's terms (docker service inspect).
  for (const app of apps.filter((x) => !x.config.cluster)) {
    for (const [acc, a] of Object.entries(app.config.accessories)) {
      for (const [k, v] of Object.entries(a.env)) {
        const refs = envReferences(v);
        if (!refs.length) continue;
        issues.push({
          file: app.file,
          path: `accessories.${acc}.env.${k}`,
          expected: 'a value without ${…}: an accessory gets secrets as files only, since its env shows in docker inspect',
          found: q(String(v)),
          hint: `list ${list(refs)} under accessories.${acc}.secrets (mounted at /run/secrets/<NAME>, and ${refs[0]}_FILE points at it: postgres, mysql and redis images read NAME_FILE), and drop ${k} or build it inside the container from the file; the app's own env may use \${${refs[0]}} (expanded from the file at start)`,
        });
      }
    }
  }
  return issues;
};

/**
 * Every service of an app mounts its volumes by name in one compose project: an accessory naming a
 * volume the app (web, workers, replicator) or another accessory declares would silently share it.
 */
export const volumesNotShared: Rule = ({ apps }) => {
  const issues: Issue[] = [];
  for (const app of apps) {
    const owner = new Map<string, string>(Object.keys(app.config.volumes).map((v) => [v, `volumes.${v} (the app's web colours, workers and replicator)`]));
    for (const [acc, a] of Object.entries(app.config.accessories).sort(([x], [y]) => byText(x, y))) {
      for (const [v, mount] of Object.entries(a.volumes)) {
        const path = `accessories.${acc}.volumes.${v}`;
        const first = owner.get(v);
        if (!first) {
          owner.set(v, path);
          continue;
        }
        issues.push({
          file: app.file,
          path,
          expected: 'a volume name no other service of the app mounts (one Docker volume per service)',
          found: `${q(v)} at ${q(mount)}, which ${first} mounts too`,
          hint: `rename it, e.g. ${acc}-${v}: ${mount} (two services writing one volume overwrite each other's files)`,
        });
      }
    }
  }
  return issues;
};

/** tls.resolver names a resolver defined in shared/edge.yml. */
export const tlsResolverDefined: Rule = ({ apps, edge }) => {
  const resolvers = Object.keys(edge.acme.resolvers).sort();
  const issues: Issue[] = [];
  for (const app of apps) {
    if (app.config.tls.mode !== 'acme' || resolvers.includes(app.config.tls.resolver)) continue;
    issues.push({
      file: app.file,
      path: 'tls.resolver',
      expected: `a resolver from shared/edge.yml acme.resolvers (${list(resolvers)})`,
      found: q(app.config.tls.resolver),
      hint: didYouMean(app.config.tls.resolver, resolvers) ?? 'define it under acme.resolvers in shared/edge.yml',
    });
  }
  return issues;
};

/** A custom CA needs its directory URL. */
export const customCaHasServer: Rule = ({ edge }, files) =>
  edge.acme.ca === 'custom' && !edge.acme.ca_server
    ? [
        {
          file: files.edge,
          path: 'acme.ca_server',
          expected: 'an ACME directory URL (required when acme.ca is "custom")',
          found: 'nothing',
          hint: 'e.g. ca_server: https://ca.example.test:14000/dir',
        },
      ]
    : [];

const POSTGRES_IMAGE = /^(?:[^/]+\/)*(postgres|postgis|pgvector|timescaledb[a-z-]*)(?::[^/]+)?$/;

/** Accessory backups are pg_dump jobs. */
export const backupOnPostgres: Rule = ({ apps }) => {
  const issues: Issue[] = [];
  for (const app of apps) {
    for (const [name, acc] of Object.entries(app.config.accessories)) {
      if (!acc.backup || POSTGRES_IMAGE.test(acc.image)) continue;
      issues.push({
        file: app.file,
        path: `accessories.${name}.backup`,
        expected: 'backup only on a postgres accessory (it runs pg_dump)',
        found: `image ${q(acc.image)}`,
        hint: 'remove backup, or use a postgres image',
      });
    }
  }
  return issues;
};

/** First path component of an image reference when it names a registry host. */
export function imageRegistryHost(image: string): string | undefined {
  const first = image.split('/')[0]!;
  if (!image.includes('/')) return undefined;
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}

/** An image built locally must be pushed somewhere the host can pull from. */
export const localBuildHasRegistry: Rule = ({ apps }) => {
  const issues: Issue[] = [];
  for (const app of apps) {
    const { build, registry, image } = app.config;
    if (registry === 'none') {
      // Shipping over SSH sends what Berth built here: nothing else to ship.
      if (build?.on !== 'local') {
        issues.push({
          file: app.file,
          path: build ? 'build.on' : 'build',
          expected: 'build.on: local with registry: none (the image built here is shipped to each host over SSH)',
          found: build ? q(build.on) : 'nothing',
          hint: build ? 'set build.on: local, or drop registry: none (build.on: host needs no registry)' : 'add build: { context: ., on: local }, or name a registry to pull the image from',
        });
      }
      continue;
    }
    if (!build || build.on !== 'local' || registry) continue;
    const host = imageRegistryHost(image)?.replace(/:\d+$/, '');
    if (host === 'localhost' || host === '127.0.0.1') continue;
    issues.push({
      file: app.file,
      path: 'registry',
      expected: 'a registry to push the locally built image to (build.on is "local")',
      found: 'nothing',
      hint: 'add registry: { server, username, password_secret }, registry: none to ship the image over SSH, or build.on: host to build on the server',
    });
  }
  return issues;
};

const joinPath = (...parts: string[]) => parts.reduce((a, b) => (b.startsWith('/') ? b : `${a.replace(/\/+$/, '')}/${b}`));

/**
 * Files the config names exist now, at plan time, not when a deploy reaches the step that reads
 * them: the origin certificate, the SSH identity files and the custom ACME CA root. (The build context and Dockerfile are
 * checked by buildFileIssues when the app is deployed: see there.)
 */
export const namedFilesExist: Rule = ({ apps, edge, root, hosts }, files) => {
  const exists = files.exists;
  if (!exists) return [];
  const issues: Issue[] = [];
  for (const app of apps) {
    const tls = app.config.tls;
    if (tls.mode !== 'origin-certificate') continue;
    const abs = joinPath(app.dir, tls.cert_file);
    if (!exists(abs, 'file')) {
      issues.push({ file: app.file, path: 'tls.cert_file', expected: 'a PEM certificate file (relative to the app folder)', found: `no file at ${abs}`, hint: 'save the Cloudflare origin certificate there, or fix the path' });
    }
  }
  for (const app of apps) {
    const pages = app.config.error_pages_path;
    if (!pages || pages.startsWith('/')) continue; // absolute: a path inside the image, read at `maintenance`
    const abs = joinPath(app.dir, pages);
    if (!exists(abs, 'dir')) {
      issues.push({ file: app.file, path: 'error_pages_path', expected: 'a folder relative to the app folder (or an absolute path inside the image)', found: `no folder at ${abs}`, hint: 'create it with a 503.html, or fix the path' });
    }
  }
  for (const [name, host] of Object.entries(hosts)) {
    if (!host.identity_file) continue;
    // "~/" is expanded by the exists check (the operator's home), like ssh does.
    const abs = host.identity_file.startsWith('~/') ? host.identity_file : joinPath(root, host.identity_file);
    if (!exists(abs, 'file')) {
      issues.push({ file: files.hosts, path: `hosts.${name}.identity_file`, expected: 'a private key file for SSH', found: `no file at ${abs}`, hint: 'fix the path, or remove identity_file to use the SSH agent and ~/.ssh/config' });
    }
  }
  if (edge.acme.ca_root) {
    const abs = joinPath(root, 'shared', edge.acme.ca_root);
    if (!exists(abs, 'file')) {
      issues.push({ file: files.edge, path: 'acme.ca_root', expected: 'a PEM file (relative to shared/)', found: `no file at ${abs}`, hint: 'export the CA root there (the sandbox does it in sandbox:up), or fix the path' });
    }
  }
  return issues;
};

/** An accessory's `files` exist on this machine now (they are uploaded with each release). */
export const accessoryFilesExist: Rule = ({ apps }, files) => {
  const exists = files.exists;
  if (!exists) return [];
  const issues: Issue[] = [];
  for (const app of apps) {
    for (const [name, acc] of Object.entries(app.config.accessories)) {
      for (const [target, local] of Object.entries(acc.files ?? {})) {
        const abs = joinPath(app.dir, local);
        if (exists(abs, 'file')) continue;
        issues.push({ file: app.file, path: `accessories.${name}.files[${q(target)}]`, expected: 'a file on this machine (relative to the app folder), uploaded and mounted read-only', found: `no file at ${abs}`, hint: 'fix the path, or add the file' });
      }
    }
  }
  return issues;
};

/**
 * The build context folder and its Dockerfile exist. Run for the app being deployed, before
 * anything is built or written (the example apps in this repository build from their own
 * repositories, which are not checked out here, so `plan` of every app cannot require them).
 */
export function buildFileIssues(app: App, exists: (path: string, kind: 'file' | 'dir') => boolean): Issue[] {
  const b = app.config.build;
  if (!b) return [];
  const context = joinPath(app.dir, b.context);
  if (!exists(context, 'dir')) {
    return [{ file: app.file, path: 'build.context', expected: 'a build context folder (relative to the app folder)', found: `no folder at ${context}`, hint: "point build.context at the app's source folder" }];
  }
  const dockerfile = joinPath(context, b.dockerfile);
  if (!exists(dockerfile, 'file')) {
    return [{ file: app.file, path: 'build.dockerfile', expected: 'a Dockerfile (relative to build.context)', found: `no file at ${dockerfile}`, hint: 'fix build.dockerfile, or add the file' }];
  }
  return [];
}

/**
 * Two writers on one Litestream replica corrupt it: every database of every app replicates to its
 * own place (bucket and path on one endpoint), and no replica path lies inside another.
 */
export const uniqueReplicaPaths: Rule = ({ apps }) => {
  const issues: Issue[] = [];
  const seen: { key: string; who: string; app: App }[] = [];
  for (const app of apps) {
    const ls = app.config.litestream;
    if (!ls) continue;
    const { bucket } = parseS3Url(ls.replica.url);
    ls.databases.forEach((db, i) => {
      const path = replicaPath(app.name, ls.replica.url, db);
      const key = `${ls.replica.endpoint ?? 'aws'} ${bucket}/${path}`;
      const clash = seen.find((s) => s.key === key || s.key.startsWith(`${key}/`) || key.startsWith(`${s.key}/`));
      if (clash) {
        issues.push({
          file: app.file,
          path: `litestream.databases[${i}]`,
          expected: 'a replica no other database writes to',
          found: `${q(db)} → s3://${bucket}/${path}`,
          hint: `${clash.who} replicates there too; give one of them another database path or litestream.replica.url`,
        });
      } else seen.push({ key, who: `${app.file}: litestream.databases (${app.name})`, app });
    });
  }
  return issues;
};

/** A wildcard certificate can only be ordered by DNS-01 (HTTP-01 and TLS-ALPN-01 cannot prove "*."). */
export const wildcardNeedsDns01: Rule = ({ apps, edge }, files) => {
  const issues: Issue[] = [];
  const dnsResolvers = Object.keys(edge.acme.resolvers).filter((n) => edge.acme.resolvers[n]!.challenge === 'dns-01').sort();
  for (const app of apps) {
    const tls = app.config.tls;
    if (tls.mode !== 'acme') continue;
    const resolver = edge.acme.resolvers[tls.resolver];
    if (!resolver || resolver.challenge === 'dns-01') continue;
    app.config.domains.forEach((d, i) => {
      if (!isWildcard(d)) return;
      issues.push({
        file: app.file,
        path: `domains[${i}]`,
        expected: 'a wildcard domain only with a DNS-01 resolver (tls.resolver)',
        found: `${q(d)} with tls.resolver ${q(tls.resolver)} (${resolver.challenge})`,
        hint: dnsResolvers.length
          ? `set tls.resolver to a DNS-01 resolver (${list(dnsResolvers)}), or list the names one by one`
          : `define a dns-01 resolver under acme.resolvers in ${files.edge} and name it in tls.resolver, or list the names one by one`,
      });
    });
  }
  return issues;
};

/**
 * One Traefik serves every resolver, so lego's provider environment (credentials, API URL,
 * timeouts) is one per edge: resolvers of one provider must agree, and no two resolvers may set one
 * variable differently.
 */
export const dnsResolversAgree: Rule = ({ edge }, files) => {
  const names = Object.keys(edge.acme.resolvers).sort();
  const dns = names.flatMap((n) => {
    const r = edge.acme.resolvers[n]!;
    return r.challenge === 'dns-01' ? [{ n, r }] : [];
  });
  const issues: Issue[] = [];
  type R = (typeof dns)[number]['r'];
  const keys = [
    ['token_secret', (r: R) => r.token_secret],
    ['api_base_url', (r: R) => r.api_base_url],
    ['propagation.timeout', (r: R) => r.propagation?.timeout],
    ['propagation.polling_interval', (r: R) => r.propagation?.polling_interval],
    ['credentials', (r: R) => (r.credentials ? sortedEntries(r.credentials).map(([k, v]) => `${k}: ${v}`).join(', ') : undefined)],
  ] as const;
  const firstOf = new Map<string, (typeof dns)[number]>();
  const setBy = new Map<string, { n: string; value: string }>();
  for (const d of dns) {
    const first = firstOf.get(d.r.provider);
    if (!first) firstOf.set(d.r.provider, d);
    else {
      for (const [key, get] of keys) {
        if (get(d.r) === get(first.r)) continue;
        issues.push({
          file: files.edge,
          path: `acme.resolvers.${d.n}.${key}`,
          expected: `the same value as acme.resolvers.${first.n}.${key} (${q(String(get(first.r) ?? 'unset'))}): DNS-01 resolvers share one Traefik environment`,
          found: q(String(get(d.r) ?? 'unset')),
          hint: 'use one DNS-01 resolver, or give them the same value',
        });
      }
      continue;
    }
    // Different providers: their variables must not collide (aliases such as CLOUDFLARE_* / CF_*).
    for (const [variable, value] of Object.entries(dnsResolverEnv(d.r))) {
      const prev = setBy.get(variable);
      if (prev && prev.value !== value) {
        issues.push({
          file: files.edge,
          path: `acme.resolvers.${d.n}`,
          expected: `no lego variable set differently by two resolvers (acme.resolvers.${prev.n} sets ${variable})`,
          found: `${variable}=${q(value)}`,
          hint: 'DNS-01 resolvers share one Traefik environment: use one resolver per provider',
        });
      } else if (!prev) setBy.set(variable, { n: d.n, value });
    }
  }
  return issues;
};

const sortedEntries = (rec: Record<string, string>) => Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : 1));

/** A DNS-01 resolver names a lego provider Traefik embeds, and only variables that provider reads. */
export const dnsProviderKnown: Rule = ({ edge }, files) => {
  const issues: Issue[] = [];
  const codes = Object.keys(LEGO.providers);
  for (const n of Object.keys(edge.acme.resolvers).sort()) {
    const r = edge.acme.resolvers[n]!;
    if (r.challenge !== 'dns-01') continue;
    const at = (key: string) => `acme.resolvers.${n}${key ? `.${key}` : ''}`;
    const provider = LEGO.providers[r.provider];
    if (!provider) {
      issues.push({
        file: files.edge,
        path: at('provider'),
        expected: `a DNS provider of lego ${LEGO.lego} (the one in Traefik ${LEGO.traefik}; list: src/config/lego-dns-providers.json)`,
        found: q(r.provider),
        hint: didYouMean(r.provider, codes) ?? 'see lego\'s DNS providers (https://go-acme.github.io/lego/dns/)',
      });
      continue;
    }
    const why = UNSUPPORTED_PROVIDERS[r.provider];
    if (why) {
      issues.push({ file: files.edge, path: at('provider'), expected: 'a DNS provider Berth can drive through Traefik', found: q(r.provider), hint: `not ${r.provider}: ${why}; use your DNS host's API provider (or httpreq with a small endpoint of your own)` });
      continue;
    }
    const known = providerVariables(provider);
    for (const variable of Object.keys(r.credentials ?? {})) {
      if (known.includes(variable)) continue;
      issues.push({
        file: files.edge,
        path: at(`credentials.${variable}`),
        expected: `a variable lego's ${r.provider} provider reads (${list(known)})`,
        found: q(variable),
        hint: didYouMean(variable, known) ?? `see src/config/lego-dns-providers.json: ${r.provider}`,
      });
    }
    if (r.token_secret && r.provider !== CLOUDFLARE.provider) {
      issues.push({ file: files.edge, path: at('token_secret'), expected: 'token_secret only with provider cloudflare', found: q(r.token_secret), hint: `name the ${r.provider} variables under credentials: { <VARIABLE>: <secret> } (${list(provider.credentials)})` });
    }
    if (r.api_base_url && r.provider !== CLOUDFLARE.provider) {
      issues.push({ file: files.edge, path: at('api_base_url'), expected: 'api_base_url only with provider cloudflare', found: q(r.api_base_url), hint: `set the provider's own URL variable under credentials (${list(known.filter((v) => /_(URL|ENDPOINT)$/.test(v))) || 'it has none'})` });
    }
    const given = Object.keys(dnsCredentials(r));
    if (provider.credentials.length && !given.some((v) => provider.credentials.includes(v))) {
      issues.push({
        file: files.edge,
        path: at('credentials'),
        expected: `the secrets lego's ${r.provider} provider needs, as credentials: { <VARIABLE>: <secret name> } (its credential variables: ${list(provider.credentials)})`,
        found: given.length ? q(given.join(', ')) : 'nothing',
        hint: r.provider === CLOUDFLARE.provider ? 'e.g. token_secret: CF_DNS_API_TOKEN' : `e.g. credentials: { ${provider.credentials[0]}: ${provider.credentials[0]} }`,
      });
    }
    for (const key of ['timeout', 'polling_interval'] as const) {
      if (r.propagation?.[key] && !providerVariable(provider, PROPAGATION_SUFFIX[key])) {
        issues.push({ file: files.edge, path: at(`propagation.${key}`), expected: `a setting lego's ${r.provider} provider has (no *${PROPAGATION_SUFFIX[key]} variable)`, found: q(r.propagation[key]!), hint: 'remove it' });
      }
    }
  }
  return issues;
};

export const RULES: readonly Rule[] = [
  wildcardNeedsDns01,
  dnsProviderKnown,
  dnsResolversAgree,
  uniqueDomains,
  sharedDomainsAgree,
  bufferingCoherent,
  appHostsExist,
  litestreamOnVolume,
  stateOnOneHost,
  perHostVolumesDeclared,
  accessoryNamesFree,
  assetPathOffVolumes,
  accessoryPortsPrivate,
  sharedAccessoryPorts,
  uniqueHostPorts,
  secretsDeclared,
  accessoryEnvWithoutSecrets,
  volumesNotShared,
  tlsResolverDefined,
  customCaHasServer,
  backupOnPostgres,
  localBuildHasRegistry,
  namedFilesExist,
  accessoryFilesExist,
  uniqueReplicaPaths,
  ...CLUSTER_RULES,
];

export function runRules(project: Project, files: RuleFiles = DEFAULT_FILES, rules: readonly Rule[] = RULES): Issue[] {
  return rules.flatMap((rule) => rule(project, files));
}
