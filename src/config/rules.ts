// PURE cross-field and cross-file rules, run after every file passed its schema. Each rule is a
// small function (project) => Issue[]; adding a check means adding a function to RULES.
import type { Issue } from '../errors.ts';
import type { App, HostConfig, Project } from './schema.ts';
import { closest } from './validate.ts';

/** Where the shared files came from (load.ts may find edge.yaml or edge.json, or BERTH_HOSTS_FILE). */
export interface RuleFiles {
  hosts: string;
  edge: string;
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

/** One domain (or its www. alias) routed to two apps would make Traefik pick one at random. */
export const uniqueDomains: Rule = ({ apps }) => {
  const owner = new Map<string, { app: App; path: string }>();
  const issues: Issue[] = [];
  for (const app of apps) {
    for (const { domain, path } of claimedDomains(app)) {
      const prev = owner.get(domain);
      if (prev && prev.app !== app) {
        issues.push({
          file: app.file,
          path,
          expected: 'a domain no other app claims',
          found: q(domain),
          hint: `${q(domain)} is already routed to ${prev.app.name} (${prev.app.file}: ${prev.path})`,
        });
      } else if (!prev) owner.set(domain, { app, path });
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
    if (!named?.length && !roles?.length) {
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
  }
  return issues;
};

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

export interface PortBinding {
  ip: string; // "0.0.0.0" when the binding names no address
  hostPort: number;
  containerPort: number;
}

/** "127.0.0.1:5432:5432" or "5432:5432" → its parts (undefined when it does not parse). */
export function parsePortBinding(binding: string): PortBinding | undefined {
  const parts = binding.split(':');
  if (parts.length === 3) return { ip: parts[0]!, hostPort: Number(parts[1]), containerPort: Number(parts[2]) };
  if (parts.length === 2) return { ip: '0.0.0.0', hostPort: Number(parts[0]), containerPort: Number(parts[1]) };
  return undefined;
}

/** A published port must be bound to one address: Docker-published ports bypass UFW. */
export const accessoryPortsPrivate: Rule = ({ apps }) => {
  const issues: Issue[] = [];
  for (const app of apps) {
    for (const [name, acc] of Object.entries(app.config.accessories)) {
      if (!acc.port) continue;
      const b = parsePortBinding(acc.port);
      if (!b || b.ip !== '0.0.0.0') continue;
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

/** Two services publishing one host port on one host: the second container would fail to start. */
export const uniqueHostPorts: Rule = ({ apps, hosts, edge }, files) => {
  interface Claim extends PortBinding {
    who: string;
    app?: App;
  }
  const issues: Issue[] = [];
  const byHost = new Map<string, Claim[]>();
  // Traefik publishes its entrypoints on every host.
  for (const h of Object.keys(hosts)) {
    byHost.set(h, [
      { ip: '0.0.0.0', hostPort: edge.entrypoints.http, containerPort: 0, who: `Traefik's http entrypoint (${files.edge})` },
      { ip: '0.0.0.0', hostPort: edge.entrypoints.https, containerPort: 0, who: `Traefik's https entrypoint (${files.edge})` },
    ]);
  }
  for (const app of apps) {
    for (const [name, acc] of Object.entries(app.config.accessories)) {
      const port = acc.port;
      const b = port ? parsePortBinding(port) : undefined;
      if (!port || !b) continue;
      const path = `accessories.${name}.port`;
      const reported = new Set<string>();
      for (const host of selectHosts(app, hosts)) {
        const claims = byHost.get(host)!;
        const clash = claims.find((c) => c.hostPort === b.hostPort && (c.ip === b.ip || c.ip === '0.0.0.0' || b.ip === '0.0.0.0'));
        if (clash && !reported.has(clash.who)) {
          reported.add(clash.who);
          issues.push({
            file: app.file,
            path,
            expected: `a host port not already published on ${host}`,
            found: q(port),
            hint: `${clash.who} publishes ${clash.ip}:${clash.hostPort} there; pick another host port`,
          });
        }
        claims.push({ ...b, who: `${app.file}: ${path}`, app });
      }
    }
  }
  return issues;
};

/** Every secret name a config uses, with where it is used (key path). */
export function usedSecrets(app: App): { name: string; path: string }[] {
  const c = app.config;
  const used: { name: string; path: string }[] = [];
  if (c.registry) used.push({ name: c.registry.password_secret, path: 'registry.password_secret' });
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
    if (!build || build.on !== 'local' || registry) continue;
    const host = imageRegistryHost(image)?.replace(/:\d+$/, '');
    if (host === 'localhost' || host === '127.0.0.1') continue;
    issues.push({
      file: app.file,
      path: 'registry',
      expected: 'a registry to push the locally built image to (build.on is "local")',
      found: 'nothing',
      hint: 'add registry: { server, username, password_secret }, or set build.on: host to build on the server',
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

/** One Traefik serves every resolver, so lego's provider environment (token, API URL, timeouts) is one per edge. */
export const dnsResolversAgree: Rule = ({ edge }, files) => {
  const names = Object.keys(edge.acme.resolvers).sort();
  const dns = names.flatMap((n) => {
    const r = edge.acme.resolvers[n]!;
    return r.challenge === 'dns-01' ? [{ n, r }] : [];
  });
  const first = dns[0];
  if (!first) return [];
  const issues: Issue[] = [];
  const keys = [
    ['token_secret', (r: typeof first.r) => r.token_secret],
    ['api_base_url', (r: typeof first.r) => r.api_base_url],
    ['propagation.timeout', (r: typeof first.r) => r.propagation?.timeout],
    ['propagation.polling_interval', (r: typeof first.r) => r.propagation?.polling_interval],
  ] as const;
  for (const { n, r } of dns.slice(1)) {
    for (const [key, get] of keys) {
      if (get(r) === get(first.r)) continue;
      issues.push({
        file: files.edge,
        path: `acme.resolvers.${n}.${key}`,
        expected: `the same value as acme.resolvers.${first.n}.${key} (${q(String(get(first.r) ?? 'unset'))}): DNS-01 resolvers share one Traefik environment`,
        found: q(String(get(r) ?? 'unset')),
        hint: 'use one DNS-01 resolver, or give them the same value',
      });
    }
  }
  return issues;
};

export const RULES: readonly Rule[] = [
  wildcardNeedsDns01,
  dnsResolversAgree,
  uniqueDomains,
  appHostsExist,
  litestreamOnVolume,
  accessoryPortsPrivate,
  uniqueHostPorts,
  secretsDeclared,
  tlsResolverDefined,
  customCaHasServer,
  backupOnPostgres,
  localBuildHasRegistry,
];

export function runRules(project: Project, files: RuleFiles = DEFAULT_FILES, rules: readonly Rule[] = RULES): Issue[] {
  return rules.flatMap((rule) => rule(project, files));
}
