// PURE cross-field and cross-file rules, run after every file passed its schema. Each rule is a
// small function (project) => Issue[]; adding a check means adding a function to RULES.
import type { Issue } from '../errors.ts';
import type { App, HostConfig, Project } from './schema.ts';
import { closest } from './validate.ts';
import { parseS3Url, replicaPath, TRAEFIK_API_PORT } from '../names.ts';

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

/**
 * A named volume lives on one server. An app on several hosts would get one copy per host: for
 * SQLite, a separate database on each, silently diverging. Berth has no shared storage, so such a
 * config is refused unless the volume is declared a per-host cache; accessories (e.g. Postgres)
 * likewise, since each host would run its own server with its own data.
 */
export const stateOnOneHost: Rule = ({ apps, hosts }) => {
  const issues: Issue[] = [];
  for (const app of apps) {
    const on = selectHosts(app, hosts);
    if (on.length < 2) continue;
    const fix = `deploy the app to one host (the primary, e.g. hosts: [${q(on[0]!)}]) and keep the other hosts for stateless apps, or keep the data in a database server every host reaches (e.g. env DB_HOST) instead of a volume`;
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
    for (const [name, acc] of Object.entries(app.config.accessories)) {
      if (!Object.keys(acc.volumes).length && !acc.backup) continue;
      issues.push({
        file: app.file,
        path: `accessories.${name}`,
        expected: 'a stateful accessory on one host',
        found: `${q(name)} would run on ${list(on)}, each with its own data`,
        hint: `run it in an app deployed to one host and reach it from the others, or ${fix}`,
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
    for (const [name, acc] of Object.entries(app.config.accessories)) {
      const port = acc.port;
      const b = port ? parsePortBinding(port) : undefined;
      if (!port || !b) continue;
      const path = `accessories.${name}.port`;
      const reported = new Set<string>();
      for (const host of selectHosts(app, hosts)) {
        const claims = byHost.get(host)!;
        const clash = claims.find((c) => overlaps(c, b));
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
        claims.push({ ...b, who: `${app.file}: ${path}` });
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
  stateOnOneHost,
  perHostVolumesDeclared,
  assetPathOffVolumes,
  accessoryPortsPrivate,
  uniqueHostPorts,
  secretsDeclared,
  tlsResolverDefined,
  customCaHasServer,
  backupOnPostgres,
  localBuildHasRegistry,
  namedFilesExist,
  uniqueReplicaPaths,
];

export function runRules(project: Project, files: RuleFiles = DEFAULT_FILES, rules: readonly Rule[] = RULES): Issue[] {
  return rules.flatMap((rule) => rule(project, files));
}
