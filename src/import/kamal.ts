// PURE mapping of a Kamal 2 config (config/deploy.yml, parsed) to a Berth app config plus hosts.json
// entries and notes: what mapped where, what could not and why, and what the operator must do
// (export a secret whose literal value was deliberately not copied). No file system access here:
// src/import/kamal-files.ts reads and writes.
import { ConfigError, type Issue } from '../errors.ts';
import { appSchema } from '../config/schema.ts';
import { shQuote, splitCommand } from '../docker/command.ts';
import { parseKamalSecrets, type KamalSecret } from './kamal-secrets.ts';
import { accessoryEnvNames } from '../plan/placement.ts';
import { ENV_READ_RE } from './kamal-erb.ts';
import { byText } from '../text-order.ts';

/** ERB env reads (kamal-erb.ts) in a value → `${NAME}` references, each NAME a secret (its value from the environment at deploy time). */
function envReads(value: string, addSecret: (n: string) => void): string {
  return value.replace(ENV_READ_RE, (_, name: string) => {
    addSecret(name);
    return `\${${name}}`;
  });
}

export interface ImportNote {
  /** Kamal key path ("proxy.ssl", "accessories.db.files", ".kamal/secrets: RAILS_MASTER_KEY"). */
  key: string;
  status: 'mapped' | 'unmapped' | 'action';
  text: string;
}

export interface KamalHost {
  ssh: string;
  identity_file?: string;
  roles: string[];
  labels: Record<string, string>;
  private_ip?: string;
}

export interface KamalImportInput {
  /** Parsed deploy.yml. */
  deploy: unknown;
  /** deploy.yml as shown in messages. */
  deployFile: string;
  /** --name (else the service). */
  name?: string;
  secrets?: { file: string; text: string };
  /** Hook files found in .kamal/hooks/ (name → content). */
  hooks?: Record<string, string>;
  /** The hooks folder relative to the Kamal project root (default .kamal/hooks). */
  hooksPath?: string;
  /** The Kamal project root relative to apps/<name>/: the build context, where hooks and secret commands run. */
  kamalRootFromApp?: (name: string) => string;
  /** hosts.json as it is: a server already listed (same SSH target) is reused by name. */
  existingHosts?: Record<string, { ssh: string; private_ip?: string }>;
  /** Whether a file (relative to the Kamal project root) exists: an accessory's `files` (default: assume it does). */
  fileExists?: (pathFromKamalRoot: string) => boolean;
}

export interface KamalImport {
  name: string;
  app: Record<string, unknown>;
  /** hosts.json entries to add (new names only). */
  newHosts: Record<string, KamalHost>;
  /** private_ip to add to hosts.json entries that exist already and lack one (an accessory is reached across hosts). */
  privateIps: Record<string, string>;
  notes: ImportNote[];
}

const NAME = /^[a-z][a-z0-9_-]*$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const ADDRESS = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/;
const HOOKS: Record<string, 'pre_build' | 'pre_deploy' | 'post_deploy'> = { 'pre-build': 'pre_build', 'pre-deploy': 'pre_deploy', 'post-deploy': 'post_deploy' };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const q = (v: unknown) => JSON.stringify(v);
const seconds = (v: unknown) => (typeof v === 'number' ? `${v}s` : typeof v === 'string' && /^\d+$/.test(v) ? `${v}s` : typeof v === 'string' && /^\d+(ms|s|m|h)$/.test(v) ? v : undefined);

/** Why each Kamal key Berth does not map is not mapped (top level). */
const UNMAPPED_TOP: Record<string, string> = {
  labels: 'container labels: Berth routes through its own Traefik file provider, so Traefik labels are not needed; other labels have no Berth key',
  logging: 'Docker logging options have no Berth key (containers use the engine default)',
  minimum_version: 'Kamal version pin; irrelevant to Berth',
  require_destination: 'Berth destinations are explicit (--destination); nothing to require',
  allow_empty_roles: 'Berth has no empty roles',
  sshkit: 'SSHKit tuning; Berth uses one multiplexed SSH connection per host',
  run_directory: 'Berth keeps host state under /var/lib/berth',
  secrets_path: 'the secrets file was read from --secrets',
  readiness_delay: 'Berth waits for the health check instead',
  service: '',
};

export function importKamal(input: KamalImportInput): KamalImport {
  const issues: Issue[] = [];
  const notes: ImportNote[] = [];
  const file = input.deployFile;
  const bad = (path: string, expected: string, found: unknown, hint?: string) => issues.push({ file, path, expected, found: found === undefined ? 'nothing' : q(found), hint });
  const note = (key: string, status: ImportNote['status'], text: string) => notes.push({ key, status, text });

  if (!isObj(input.deploy)) throw new ConfigError([{ file, path: '', expected: 'a Kamal deploy.yml mapping (service, image, servers …)', found: q(input.deploy ?? null) }]);
  const k = input.deploy;

  // ---------------------------------------------------------------- name
  const service = k.service;
  const name = input.name ?? (typeof service === 'string' ? service : undefined);
  if (!name || !NAME.test(name)) {
    if (input.name !== undefined) bad('--name', 'an app name of lowercase letters, digits, "-" or "_", starting with a letter', input.name, 'pass another --name');
    else bad('service', 'a service name of lowercase letters, digits, "-" or "_", starting with a letter', service, 'fix service in deploy.yml, or pass --name <app>');
  }

  const app: Obj = { $schema: '../../schema/app.schema.json' };

  // ---------------------------------------------------------------- registry + image
  const reg = isObj(k.registry) ? k.registry : undefined;
  const server = typeof reg?.server === 'string' ? reg.server : undefined;
  // Kamal's local registry (tunnelled to the servers over SSH) is a server named localhost[:port]
  // (Registry#local?); 127.0.0.1:5000 is an ordinary registry Kamal logs in to and pushes to.
  const localRegistry = !!server && /^localhost(:\d+)?$/.test(server);
  let image = typeof k.image === 'string' ? k.image : undefined;
  if (!image) bad('image', 'an image name such as "user/app"', k.image);
  else {
    // Kamal prefixes the image with the registry server (Docker Hub when there is none).
    if (server && !localRegistry && server !== 'docker.io' && server !== 'registry-1.docker.io' && !image.startsWith(`${server}/`)) image = `${server}/${image}`;
    if (!appSchema.shape.image.safeParse(image).success) bad('image', 'an image reference of lowercase letters, digits and . _ / : -', image, 'fix image in deploy.yml');
    app.image = image;
  }
  const secretNames = new Set<string>();
  const addSecret = (n: string) => secretNames.add(n);
  let registryPassword: string | undefined;
  if (reg && !localRegistry) {
    const password = reg.password;
    if (Array.isArray(password) && typeof password[0] === 'string' && ENV_NAME.test(password[0])) registryPassword = password[0];
    else if (typeof password === 'string') {
      registryPassword = 'KAMAL_REGISTRY_PASSWORD';
      note('registry.password', 'action', `a literal password is never copied: export BERTH_SECRET_${registryPassword}=… (or add a secret_commands entry)`);
    } else bad('registry.password', 'a secret name list such as [KAMAL_REGISTRY_PASSWORD]', password);
    const username = reg.username;
    if (typeof username === 'string' && username) {
      app.registry = { server: server ?? 'docker.io', username, password_secret: registryPassword ?? 'KAMAL_REGISTRY_PASSWORD' };
      note('registry', 'mapped', 'registry (server, username, password_secret)');
      if (registryPassword) addSecret(registryPassword);
    } else {
      note('registry.username', 'unmapped', 'a username read from a secret has no Berth key (the username is not secret); the image is built on the host instead (build.on: host)');
    }
  } else if (localRegistry) {
    // Kamal's local-registry mode (a registry on the operator machine, tunnelled to the hosts): Berth
    // ships the image over SSH itself, only the layers each host lacks, with no registry at all.
    app.registry = 'none';
    note('registry.server', 'mapped', `Kamal's local registry (${server}) → registry: none (the image is built here and shipped over SSH, only the layers each host lacks)`);
  }

  // ---------------------------------------------------------------- build
  const builder = isObj(k.builder) ? k.builder : {};
  const kamalRoot = name && NAME.test(name) ? (input.kamalRootFromApp?.(name) ?? '.') : '.';
  const build: Obj = { context: typeof builder.context === 'string' ? joinRel(kamalRoot, builder.context) : kamalRoot };
  // Berth resolves the dockerfile against the build context (as compose does), Kamal against the project root.
  if (typeof builder.dockerfile === 'string') build.dockerfile = builder.dockerfile;
  if (isObj(builder.args)) build.args = Object.fromEntries(Object.entries(builder.args).map(([a, v]) => [a, String(v)]));
  build.on = app.registry ? 'local' : 'host';
  app.build = build;
  note('builder', 'mapped', `build: { context: ${build.context}, on: ${build.on} }`);
  for (const [key, why] of Object.entries({
    arch: 'Berth builds for the platform of the machine that builds (build.on: host builds on the server itself, which always matches); no platform key',
    remote: 'remote builders have no Berth key; build.on: host builds on the server',
    local: 'see arch/remote',
    cache: 'build cache options have no Berth key (BuildKit caches locally)',
    secrets: 'build secrets have no Berth key',
    multiarch: 'see arch',
    driver: 'Berth uses the default Docker builder',
    ssh: 'build SSH forwarding has no Berth key',
  })) if (key in builder) note(`builder.${key}`, 'unmapped', why);

  // ---------------------------------------------------------------- ssh + servers
  const ssh = isObj(k.ssh) ? k.ssh : {};
  const sshUser = typeof ssh.user === 'string' ? ssh.user : 'root';
  if (!/^[a-z_][a-z0-9_-]*$/.test(sshUser)) bad('ssh.user', 'a Unix user name', ssh.user);
  const sshPort = typeof ssh.port === 'number' || (typeof ssh.port === 'string' && /^\d{1,5}$/.test(ssh.port)) ? Number(ssh.port) : undefined;
  const identity = Array.isArray(ssh.keys) && typeof ssh.keys[0] === 'string' ? ssh.keys[0] : undefined;
  for (const key of Object.keys(ssh)) if (!['user', 'port', 'keys'].includes(key)) note(`ssh.${key}`, 'unmapped', 'SSH options beyond user, port and keys go in ~/.ssh/config');
  if (Array.isArray(ssh.keys) && ssh.keys.length > 1) note('ssh.keys', 'unmapped', 'only the first key becomes identity_file; add the others to ~/.ssh/config');

  const primary = typeof k.primary_role === 'string' ? k.primary_role : 'web';
  const servers: Record<string, unknown> = Array.isArray(k.servers) ? { [primary]: k.servers } : isObj(k.servers) ? k.servers : {};
  if (!Object.keys(servers).length) bad('servers', 'at least one server (servers: [ip] or servers: { web: [ip] })', k.servers);
  const hostOf = new Map<string, KamalHost & { name?: string }>(); // address → entry
  const roleHosts: Record<string, string[]> = {};
  const workerRoles: { role: string; cmd: string; options?: Obj }[] = [];
  for (const [role, spec] of Object.entries(servers)) {
    if (!NAME.test(role)) {
      bad(`servers.${role}`, 'a role name of lowercase letters, digits, "-" or "_"', role);
      continue;
    }
    const r: Obj = Array.isArray(spec) ? { hosts: spec } : isObj(spec) ? spec : {};
    const entries: { address: string; labels: Record<string, string>; path: string }[] = [];
    const hosts = r.hosts;
    if (Array.isArray(hosts)) {
      hosts.forEach((h, i) => {
        const path = `servers.${role}${Array.isArray(spec) ? '' : '.hosts'}[${i}]`;
        if (typeof h === 'string') entries.push({ address: h, labels: {}, path });
        else if (isObj(h) && Object.keys(h).length === 1) {
          // Kamal host tags: - 1.2.3.4: [primary] (or a single tag)
          const [address, tags] = Object.entries(h)[0]!;
          const list = (Array.isArray(tags) ? tags : [tags]).map(String);
          entries.push({ address, labels: Object.fromEntries(list.map((t) => [t, 'true'])), path });
        } else bad(path, 'a host address (or "address: [tags]")', h);
      });
    } else if (isObj(hosts)) {
      // address → { labels: {...} }: per-host labels
      for (const [address, v] of Object.entries(hosts)) {
        const labels = isObj(v) && isObj(v.labels) ? Object.fromEntries(Object.entries(v.labels).map(([a, b]) => [a, String(b)])) : {};
        entries.push({ address, labels, path: `servers.${role}.hosts.${address}` });
      }
    } else bad(`servers.${role}`, 'a list of host addresses or { hosts: [...] }', spec);
    roleHosts[role] = [];
    for (const e of entries) {
      if (!ADDRESS.test(e.address) || e.address.includes('..')) {
        bad(e.path, 'a host name or IPv4 address', e.address, 'fix the address in deploy.yml');
        continue;
      }
      const h = hostOf.get(e.address) ?? { ssh: `${sshUser}@${e.address}${sshPort ? `:${sshPort}` : ''}`, roles: [], labels: {}, ...(identity ? { identity_file: identity } : {}) };
      if (!h.roles.includes(role)) h.roles.push(role);
      Object.assign(h.labels, e.labels);
      hostOf.set(e.address, h);
      roleHosts[role]!.push(e.address);
    }
    if (Object.keys(entries[0]?.labels ?? {}).length || entries.some((e) => Object.keys(e.labels).length)) note(`servers.${role}`, 'mapped', 'per-host tags/labels → hosts.json labels');
    if (role === primary) {
      const res = roleResources(r.options, `servers.${role}.options`, note);
      if (res) {
        app.resources = res;
        note(`servers.${role}.options`, 'mapped', `resources ${q(res)}`);
      }
      if (typeof r.cmd === 'string') app.command = r.cmd;
    } else if (typeof r.cmd === 'string') {
      if (!NAME.test(role)) continue;
      // Mapped once the hosts have names (below): a worker with its own hosts and resources.
      workerRoles.push({ role, cmd: r.cmd, ...(isObj(r.options) ? { options: r.options } : {}) });
    } else note(`servers.${role}`, 'unmapped', `role ${role} has no cmd; Berth has no second web role (its hosts are still listed in hosts.json with role ${role})`);
    for (const key of ['labels', 'env', 'proxy', 'logging']) {
      if (key in r) note(`servers.${role}.${key}`, 'unmapped', key === 'labels' ? UNMAPPED_TOP.labels! : `per-role ${key} has no Berth key; move what you need to the app's ${key}`);
    }
  }

  // Accessories on servers of their own (Kamal's host/hosts): those servers join hosts.json too.
  const accessoryAddrs: Record<string, string[]> = {};
  if (isObj(k.accessories)) {
    for (const [an, spec] of Object.entries(k.accessories)) {
      if (!isObj(spec)) continue;
      const addrs = [...(typeof spec.host === 'string' ? [spec.host] : []), ...(Array.isArray(spec.hosts) ? spec.hosts.map(String) : [])];
      const roles = [...(typeof spec.role === 'string' ? [spec.role] : []), ...(Array.isArray(spec.roles) ? spec.roles.map(String) : [])];
      for (const r of roles) addrs.push(...(roleHosts[r] ?? []));
      if (roles.some((r) => !roleHosts[r])) bad(`accessories.${an}.roles`, `roles from servers (${Object.keys(roleHosts).join(', ')})`, roles);
      const ok = addrs.filter((a, i) => {
        if (ADDRESS.test(a) && !a.includes('..')) return true;
        bad(`accessories.${an}.host${Array.isArray(spec.hosts) ? `s[${i}]` : ''}`, 'a host name or IPv4 address', a, 'fix the address in deploy.yml');
        return false;
      });
      accessoryAddrs[an] = [...new Set(ok)];
      for (const a of accessoryAddrs[an]!) if (!hostOf.has(a)) hostOf.set(a, { ssh: `${sshUser}@${a}${sshPort ? `:${sshPort}` : ''}`, roles: [], labels: {}, ...(identity ? { identity_file: identity } : {}) });
    }
  }

  // hosts.json names: reuse a listed server with the same SSH target, else a name derived from the address.
  const existing = input.existingHosts ?? {};
  const newHosts: Record<string, KamalHost> = {};
  const nameOf = new Map<string, string>();
  for (const [address, h] of hostOf) {
    const same = Object.entries(existing).find(([, e]) => sameSsh(e.ssh, h.ssh));
    if (same) {
      nameOf.set(address, same[0]);
      note(`servers (${address})`, 'mapped', `already in hosts.json as ${same[0]} (left unchanged: add roles ${q(h.roles)}${Object.keys(h.labels).length ? ` and labels ${q(h.labels)}` : ''} there if you need them)`);
      continue;
    }
    let base = address.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    if (!/^[a-z]/.test(base)) base = `h-${base}`;
    let hn = base;
    for (let i = 2; existing[hn] || newHosts[hn]; i++) hn = `${base}-${i}`;
    newHosts[hn] = h;
    nameOf.set(address, hn);
  }
  const addressOf = new Map([...nameOf].map(([address, hn]) => [hn, address]));
  const names = (addrs: string[]) => [...new Set(addrs.map((a) => nameOf.get(a)!).filter(Boolean))].sort();
  const appHosts = names(roleHosts[primary] ?? Object.values(roleHosts)[0] ?? []);
  app.hosts = appHosts;
  // Each role with a cmd: a worker, on its role's servers (when they differ from the web's), with its options.
  for (const w of workerRoles) {
    const on = names(roleHosts[w.role] ?? []);
    const worker: Obj = { command: w.cmd };
    if (on.length && q(on) !== q(appHosts)) worker.hosts = on;
    const res = roleResources(w.options, `servers.${w.role}.options`, note);
    if (res) worker.resources = res;
    ((app.workers ??= {}) as Obj)[w.role] = worker;
    note(`servers.${w.role}`, 'mapped', `workers.${w.role}${worker.hosts ? ` on ${on.join(', ')}` : ''}${res ? ` with resources ${q(res)}` : ''} (same image, replaced after the web switches)`);
  }
  const imageHosts = new Set([...appHosts, ...workerRoles.flatMap((w) => names(roleHosts[w.role] ?? []))]);
  const privateIps: Record<string, string> = {}; // host name → private_ip the import adds

  // ---------------------------------------------------------------- proxy
  const proxy = isObj(k.proxy) ? k.proxy : undefined;
  if (proxy) {
    const hosts = [...(typeof proxy.host === 'string' ? [proxy.host] : []), ...(Array.isArray(proxy.hosts) ? proxy.hosts : [])].map((h) => String(h).toLowerCase());
    const domains: string[] = [];
    hosts.forEach((h, i) => {
      if (!DOMAIN.test(h)) bad(proxy.host !== undefined && i === 0 ? 'proxy.host' : `proxy.hosts`, 'a DNS name such as "example.com"', h);
      else domains.push(h);
    });
    // www.X beside X: Berth serves the www form through `www` rather than as a second domain.
    const apexWithWww = domains.filter((d) => domains.includes(`www.${d}`));
    if (apexWithWww.length) {
      app.www = 'alias';
      note('proxy.hosts', 'mapped', `www.${apexWithWww[0]} → www: alias (both names served; set redirect-to-apex to redirect)`);
    }
    app.domains = domains.filter((d) => !(d.startsWith('www.') && apexWithWww.includes(d.slice(4))));
    if (proxy.ssl === true) note('proxy.ssl', 'mapped', "tls: acme (Let's Encrypt through the edge)");
    else if (isObj(proxy.ssl)) {
      note('proxy.ssl', 'unmapped', 'a custom certificate from secrets: use tls: { mode: origin-certificate, cert_file, key_secret }');
    } else {
      app.tls = { mode: 'none' };
      note('proxy.ssl', 'mapped', 'ssl off → tls: { mode: none } (plain HTTP at the origin, e.g. behind Cloudflare)');
    }
    if (proxy.app_port !== undefined) app.port = Number(proxy.app_port);
    const hc = isObj(proxy.healthcheck) ? proxy.healthcheck : undefined;
    if (hc) {
      const out: Obj = {};
      if (typeof hc.path === 'string') out.path = hc.path;
      const interval = seconds(hc.interval);
      if (interval) out.interval = interval;
      const timeout = seconds(hc.timeout);
      if (timeout) out.timeout = timeout;
      app.healthcheck = out;
      note('proxy.healthcheck', 'mapped', `healthcheck ${q(out)}`);
    }
    mapProxyEdge(proxy, app, note, bad);
    for (const key of Object.keys(proxy)) {
      if (!['host', 'hosts', 'ssl', 'app_port', 'healthcheck', ...PROXY_EDGE_KEYS].includes(key)) {
        note(`proxy.${key}`, 'unmapped', key === 'forward_headers' ? "Traefik forwards X-Forwarded-* from shared/edge.yml's trusted_ips" : 'no Berth key');
      }
    }
  } else note('proxy', 'unmapped', 'no proxy: the app gets no domains (add domains: to route it)');

  // Kamal 1's top-level healthcheck, still seen in seeds.
  if (isObj(k.healthcheck)) {
    const hc = k.healthcheck;
    const out: Obj = { ...((app.healthcheck as Obj) ?? {}) };
    if (typeof hc.path === 'string') out.path = hc.path;
    const interval = seconds(hc.interval);
    if (interval) out.interval = interval;
    if (typeof hc.max_attempts === 'number') out.retries = hc.max_attempts;
    app.healthcheck = out;
    note('healthcheck', 'mapped', `healthcheck ${q(out)} (Kamal 1 key)`);
    if (hc.port !== undefined && Number(hc.port) !== Number(app.port ?? 80)) note('healthcheck.port', 'unmapped', `Berth checks the app port (${app.port ?? 80})`);
  }

  // ---------------------------------------------------------------- env
  const env = isObj(k.env) ? k.env : undefined;
  const appSecretsOnly = new Set<string>(); // secrets the app's own processes receive
  if (env) {
    const hasSections = 'clear' in env || 'secret' in env || 'tags' in env;
    const clear = hasSections ? (isObj(env.clear) ? env.clear : {}) : env;
    const outEnv: Obj = {};
    for (const [key, v] of Object.entries(clear)) {
      if (!ENV_NAME.test(key)) bad(`env.clear.${key}`, 'an UPPER_SNAKE_CASE variable name', key);
      // Kamal's clear values are literal; Berth's go through compose interpolation, so "$" is escaped.
      // An ERB read of the environment stays a read at deploy time: a secret reference.
      else outEnv[key] = typeof v === 'string' ? envReads(v.replace(/\$/g, '$$$$'), addSecret) : typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
    }
    const secret = hasSections && Array.isArray(env.secret) ? env.secret : [];
    for (const s of secret) {
      const [envName, alias] = String(s).split(':');
      if (!envName || !ENV_NAME.test(envName) || (alias !== undefined && !ENV_NAME.test(alias))) {
        bad('env.secret', 'secret names in UPPER_SNAKE_CASE ("NAME" or "NAME:SECRET")', s);
        continue;
      }
      if (alias) {
        outEnv[envName] = `\${${alias}}`;
        addSecret(alias);
        note(`env.secret ${s}`, 'mapped', `env.${envName}: \${${alias}}`);
      } else addSecret(envName);
      appSecretsOnly.add(alias ?? envName);
    }
    if (Object.keys(outEnv).length) app.env = outEnv;
    if (hasSections && 'tags' in env) note('env.tags', 'unmapped', 'per-host-tag env has no Berth key');
  }

  // ---------------------------------------------------------------- volumes
  const volumes = mapVolumes(k.volumes, 'volumes', note, bad);
  if (Object.keys(volumes).length) {
    app.volumes = volumes;
    note('volumes', 'mapped', `named volumes ${Object.keys(volumes).join(', ')} (Docker names them berth-<app>_<volume>: on a server Kamal already used, copy the data from Kamal's volume once)`);
  }

  // ---------------------------------------------------------------- asset bridging (same key and meaning)
  if (k.asset_path !== undefined) {
    if (typeof k.asset_path === 'string') {
      app.asset_path = k.asset_path;
      note('asset_path', 'mapped', `asset_path ${k.asset_path}: each release's assets stay served after the switch (validated by plan)`);
    } else bad('asset_path', 'a path such as "/rails/public/assets"', k.asset_path);
  }

  // ---------------------------------------------------------------- accessories
  const shared: Record<string, { on: string[]; users: string[] }> = {};
  const needPrivate = new Map<string, string[]>(); // host → the keys that make another host connect to it
  const usedVolumes = new Set<string>(Object.keys((app.volumes ?? {}) as Obj));
  if (isObj(k.accessories)) {
    const accs: Obj = {};
    for (const [an, spec] of Object.entries(k.accessories)) {
      const path = `accessories.${an}`;
      if (!NAME.test(an)) {
        bad(path, 'an accessory name of lowercase letters, digits, "-" or "_"', an);
        continue;
      }
      if (!isObj(spec) || typeof spec.image !== 'string') {
        bad(`${path}.image`, 'an image', isObj(spec) ? spec.image : spec);
        continue;
      }
      if (/(^|\/)litestream(:|$)/.test(spec.image)) {
        note(path, 'unmapped', "Berth's litestream: key replaces a Litestream accessory (exactly one replicator per app, a sync before migrations, backup:status/verify): add litestream: { databases: [<container paths>], replica: { url: s3://… } } — the replica URL is in the litestream.yml on the server, which the import cannot read");
        continue;
      }
      const acc: Obj = { image: spec.image };
      // Where it runs: Kamal's host/hosts/roles as hosts.json names (the app's hosts when it names none).
      let accOn = names(accessoryAddrs[an] ?? []);
      // Kamal runs one per server, each with its own data; Berth keeps data in one place: the first
      // of them, reached by the others over the private network.
      const stateful = (Array.isArray(spec.volumes) && spec.volumes.length > 0) || (Array.isArray(spec.directories) && spec.directories.length > 0);
      if (stateful && (accOn.length > 1 || (!accOn.length && appHosts.length > 1))) {
        const all = accOn.length ? accOn : appHosts;
        accOn = [all[0]!];
        note(path, 'mapped', `host: ${all[0]} (Kamal ran one ${an} per server on ${all.join(', ')}, each with its own data; Berth keeps an accessory's data on one host, and the others reach it at its private_ip through ${accessoryEnvNames(an).host}/${accessoryEnvNames(an).port}. For a cache that may start empty, one per host: remove its volumes and set hosts: [${all.join(', ')}])`);
      }
      if (accOn.length && q(accOn) !== q(appHosts)) {
        if (accOn.length === 1) acc.host = accOn[0];
        else acc.hosts = accOn;
      }
      const on = accOn.length ? accOn : appHosts;
      if ('host' in spec || 'hosts' in spec || 'role' in spec || 'roles' in spec) note(`${path}.host`, 'mapped', `runs on ${on.join(', ')}${acc.host || acc.hosts ? '' : " (the app's hosts)"}`);
      // Used by the app's processes on other hosts: published on its host's private_ip (never 127.0.0.1, never public).
      const users = [...imageHosts].filter((h) => !on.includes(h)).sort();
      if (spec.port !== undefined) {
        const p = String(spec.port);
        const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5})(?::(\d{1,5}))?$/.exec(p);
        if (!m) bad(`${path}.port`, 'a port or binding such as 5432 or "127.0.0.1:5432:5432"', spec.port);
        else if (users.length) {
          const [, ip, a, b] = m;
          acc.port = `${a}:${b ?? a}`;
          if (ip && ip !== '127.0.0.1' && ip !== '0.0.0.0' && on.length === 1) privateIps[on[0]!] ??= ip;
          note(`${path}.port`, 'mapped', `${acc.port}: ${users.join(', ')} reach it from other hosts, so Berth publishes it on ${on.join(', ')}'s private_ip only${ip === '127.0.0.1' ? ` (Kamal's 127.0.0.1 answers only on ${on.join(', ')} itself)` : ''}; the app gets ${accessoryEnvNames(an).host}/${accessoryEnvNames(an).port}`);
          for (const h of on) needPrivate.set(h, [...(needPrivate.get(h) ?? []), `${path}.port`]);
          // The hosts reaching it: their private_ip lets the accessory host's firewall admit them (setup --harden asks for it).
          for (const h of users) {
            const a = addressOf.get(h);
            if (!a || !isPrivateAddress(a) || existing[h]?.private_ip || privateIps[h]) continue;
            privateIps[h] = a;
            note(`servers (${a})`, 'mapped', `private_ip ${a} for ${h} (its SSH address is on a private network): the firewall of ${on.join(', ')} admits it by that address`);
          }
        } else {
          const [, ip, a, b] = m;
          acc.port = `${ip ?? '127.0.0.1'}:${a}:${b ?? a}`;
          if (!ip) note(`${path}.port`, 'mapped', `${acc.port} (bound to 127.0.0.1: Kamal publishes ${p} on every interface)`);
        }
      } else if (users.length) {
        bad(`${path}.port`, `a port: the app's processes on ${users.join(', ')} reach ${an} on ${on.join(', ')} over the network`, undefined, 'add port: "<port>" to the accessory in deploy.yml (Berth publishes it on its host\'s private address only)');
      }
      shared[an] = { on, users };
      const aenv = isObj(spec.env) ? spec.env : undefined;
      if (aenv) {
        const hasSections = 'clear' in aenv || 'secret' in aenv;
        const clear = hasSections ? (isObj(aenv.clear) ? aenv.clear : {}) : aenv;
        const e: Obj = {};
        for (const [key, v] of Object.entries(clear)) {
          if (!ENV_NAME.test(key)) bad(`${path}.env.clear.${key}`, 'an UPPER_SNAKE_CASE variable name', key);
          else e[key] = typeof v === 'string' ? envReads(v.replace(/\$/g, '$$$$'), addSecret) : (v as string | number | boolean);
        }
        if (Object.keys(e).length) acc.env = e;
        const secrets = (hasSections && Array.isArray(aenv.secret) ? aenv.secret : []).map(String);
        const okSecrets = secrets.filter((s) => {
          if (ENV_NAME.test(s)) return true;
          bad(`${path}.env.secret`, 'secret names in UPPER_SNAKE_CASE', s);
          return false;
        });
        if (okSecrets.length) {
          acc.secrets = okSecrets;
          okSecrets.forEach(addSecret);
          note(`${path}.env.secret`, 'mapped', `secrets mounted as files with ${okSecrets.map((s) => `${s}_FILE`).join(', ')} (official postgres/mysql images read *_FILE; check other images)`);
        }
      }
      const vols = { ...mapVolumes(spec.volumes, `${path}.volumes`, note, bad), ...mapDirectories(spec.directories, `${path}.directories`, note, bad, an, usedVolumes) };
      for (const v of Object.keys(vols)) usedVolumes.add(v);
      if (Object.keys(vols).length) acc.volumes = vols;
      const files = mapFiles(spec.files, `${path}.files`, note, bad, kamalRoot, input.fileExists);
      if (Object.keys(files).length) acc.files = files;
      if (typeof spec.cmd === 'string') acc.command = spec.cmd;
      for (const key of Object.keys(spec)) {
        if (['image', 'port', 'env', 'volumes', 'directories', 'files', 'cmd', 'host', 'hosts', 'role', 'roles', 'service'].includes(key)) continue;
        note(`${path}.${key}`, 'unmapped', 'no Berth key');
      }
      accs[an] = acc;
    }
    if (Object.keys(accs).length) app.accessories = accs;
    // Both ends of a connection across hosts need the address it travels on (private_ip).
    for (const [hn, keys] of [...needPrivate].sort(([a], [b]) => byText(a, b))) {
      if (privateIps[hn] || existing[hn]?.private_ip) continue;
      const address = addressOf.get(hn);
      if (address && isPrivateAddress(address)) {
        privateIps[hn] = address;
        note(`servers (${address})`, 'mapped', `private_ip ${address} for ${hn} (its SSH address is on a private network); an accessory is reached across hosts there`);
      } else {
        bad(
          keys[0]!,
          `the private address of ${hn} (${address ?? 'an existing host'}): ${[...new Set(keys)].join(', ')} make${keys.length === 1 ? 's' : ''} hosts connect over your private network, and Berth never publishes an accessory on a public address`,
          address,
          `give the port the accessory host's private address (e.g. port: "10.0.0.3:5432:5432"), or add "private_ip" to ${hn} in hosts.json and rerun the import`,
        );
      }
    }
    // Kamal names an accessory's container <service>-<accessory>; in Berth the app reaches it by its name,
    // or, when it runs on another host, through the <NAME>_HOST/<NAME>_PORT Berth sets.
    const appEnv = (app.env ?? {}) as Obj;
    const ipOf = (hn: string) => privateIps[hn] ?? existing[hn]?.private_ip;
    for (const [key, v] of Object.entries(appEnv)) {
      const acc = Object.keys(accs).find((a) => typeof service === 'string' && v === `${service}-${a}`);
      const s = acc ? shared[acc] : undefined;
      if (acc && !s?.users.length) {
        appEnv[key] = acc;
        note(`env.clear.${key}`, 'mapped', `${q(v)} → ${q(acc)} (the accessory's name on the app's network)`);
        continue;
      }
      // Inside a URL ("redis://hey-valkey:6379/0"): the accessory's name, or its host's private_ip when other hosts reach it.
      if (typeof v !== 'string' || typeof service !== 'string') continue;
      let out = v;
      for (const a of Object.keys(accs)) {
        const to = shared[a]?.users.length ? ipOf(shared[a]!.on[0]!) : a;
        if (to) out = out.replace(new RegExp(`(?<=[/@])${`${service}-${a}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[:/]|$)`, 'g'), to);
      }
      if (out !== v) {
        appEnv[key] = out;
        note(`env.clear.${key}`, 'mapped', `${q(v)} → ${q(out)} (Kamal's container name → where the accessory is reached in Berth)`);
      }
    }
    for (const [acc, s] of Object.entries(shared)) {
      if (!s.users.length) continue;
      const envNames = accessoryEnvNames(acc);
      const at = s.on.flatMap((h) => [ipOf(h), addressOf.get(h)]);
      for (const [key, v] of Object.entries(appEnv)) {
        if (key === envNames.host || key === envNames.port) {
          delete appEnv[key];
          note(`env.clear.${key}`, 'mapped', `dropped: Berth sets ${key} on every host to where ${acc} is reached from there (${ipOf(s.on[0]!) ?? `${s.on[0]}'s private_ip`})`);
        } else if (typeof v === 'string' && (v === acc || v === `${service}-${acc}` || at.includes(v)) && ipOf(s.on[0]!)) {
          appEnv[key] = ipOf(s.on[0]!);
          note(`env.clear.${key}`, 'mapped', `${q(v)} → ${q(ipOf(s.on[0]!))}: ${acc} runs on ${s.on[0]} and is published on its private_ip only (or read ${envNames.host} in the app)`);
        }
      }
    }
    if (!Object.keys(appEnv).length) delete app.env;
  }

  // Kamal keeps a named volume per server: on an app whose processes run on several hosts, each
  // keeps its own copy. Berth's equivalent is per_host_volumes (never for a database: Litestream's
  // volumes are declared by the operator, not imported).
  const volNames = Object.keys((app.volumes ?? {}) as Obj);
  if (volNames.length && imageHosts.size > 1) {
    app.per_host_volumes = volNames;
    note('volumes', 'mapped', `per_host_volumes ${volNames.join(', ')}: the app runs on ${[...imageHosts].sort().join(', ')} and Kamal keeps one copy of a named volume per server, as per_host_volumes does; data that all hosts must share (uploads, SQLite) belongs in a database accessory or object storage instead`);
  }

  // ---------------------------------------------------------------- aliases
  if (isObj(k.aliases)) {
    const out: Obj = {};
    for (const [an, v] of Object.entries(k.aliases)) {
      const mapped = NAME.test(an) && typeof v === 'string' ? mapAlias(v) : undefined;
      if (mapped) out[an] = mapped;
      else note(`aliases.${an}`, 'unmapped', typeof v !== 'string' ? 'not a string' : !NAME.test(an) ? 'alias names are lowercase letters, digits, "-" or "_"' : `only "app exec …" and "app logs" aliases map (this one is ${q(v)})`);
    }
    if (Object.keys(out).length) app.aliases = out;
  }

  // ---------------------------------------------------------------- deploy timings
  const deploy: Obj = {};
  if (typeof k.retain_containers === 'number') deploy.keep_releases = Math.max(2, k.retain_containers);
  if (typeof k.deploy_timeout === 'number') deploy.health_timeout_seconds = Math.max(5, k.deploy_timeout);
  if (typeof k.drain_timeout === 'number') deploy.retire_seconds = k.drain_timeout;
  // boot.limit: hosts booted at once (a number, or a percentage of the app's hosts).
  const boot = (k.boot ?? {}) as Obj;
  const limit = typeof boot.limit === 'number' ? boot.limit : typeof boot.limit === 'string' && /^\d+%$/.test(boot.limit) ? Math.ceil((parseInt(boot.limit, 10) / 100) * Math.max(1, (app.hosts as string[]).length)) : undefined;
  if (limit !== undefined && limit >= 1) deploy.batch_size = Math.floor(limit);
  else if (boot.limit !== undefined) note('boot.limit', 'unmapped', `${q(boot.limit)} is neither a number nor a percentage`);
  if (boot.wait !== undefined) note('boot.wait', 'unmapped', 'Berth starts the next batch as soon as the previous one is live; no fixed wait');
  if (Object.keys(deploy).length) {
    app.deploy = deploy;
    note('deploy timings', 'mapped', `deploy ${q(deploy)} (retain_containers → keep_releases, deploy_timeout → health_timeout_seconds, drain_timeout → retire_seconds, boot.limit → batch_size)`);
  }

  // ---------------------------------------------------------------- hooks
  const hooks: Obj = {};
  for (const [hook, text] of Object.entries(input.hooks ?? {})) {
    if (hook.endsWith('.sample')) continue;
    const berth = HOOKS[hook];
    const path = `${input.hooksPath ?? '.kamal/hooks'}/${hook}`;
    if (!berth) {
      note(`.kamal/hooks/${hook}`, 'unmapped', 'Berth runs pre-build, pre-deploy and post-deploy hooks only');
      continue;
    }
    // Berth runs hooks in the build context, which is the Kamal project root: the same folder as Kamal.
    hooks[berth] = `./${path}`;
    const callsKamal = /(^|[\s;&|(`])kamal\s/m.test(text);
    note(`.kamal/hooks/${hook}`, callsKamal ? 'action' : 'mapped', `hooks.${berth}${callsKamal ? ' — the script calls kamal: change those lines to npm run exec/…' : ''} (it gets BERTH_* variables, not KAMAL_*)`);
  }
  if (Object.keys(hooks).length) app.hooks = hooks;

  // ---------------------------------------------------------------- error pages
  if (typeof k.error_pages_path === 'string') {
    const rel = k.error_pages_path.replace(/^\.\//, '').replace(/\/+$/, '');
    if (!/^[A-Za-z0-9._@+\/-]+$/.test(rel) || rel.startsWith('/') || rel.split('/').includes('..')) bad('error_pages_path', 'a folder relative to the Kamal project, such as "public"', k.error_pages_path);
    else {
      app.error_pages_path = joinRel(kamalRoot, rel);
      note('error_pages_path', 'mapped', `error_pages_path: ${app.error_pages_path} (its 503.html is the maintenance page: npm run maintenance / live; Berth serves no other error page)`);
    }
  }

  // ---------------------------------------------------------------- the rest of the top level
  const HANDLED = ['service', 'image', 'servers', 'registry', 'builder', 'ssh', 'proxy', 'env', 'volumes', 'asset_path', 'accessories', 'aliases', 'healthcheck', 'primary_role', 'retain_containers', 'deploy_timeout', 'drain_timeout', 'boot', 'hooks_path', 'error_pages_path'];
  for (const key of Object.keys(k)) {
    if (HANDLED.includes(key)) continue;
    note(key, 'unmapped', UNMAPPED_TOP[key] || 'not a Kamal 2 key Berth knows');
  }

  // ---------------------------------------------------------------- secrets
  const parsed = input.secrets ? parseKamalSecrets(input.secrets.text) : undefined;
  const byName = new Map<string, KamalSecret>((parsed?.secrets ?? []).map((s) => [s.name, s]));
  const commands: Obj = {};
  const secretsFile = input.secrets?.file ?? '.kamal/secrets';
  for (const n of [...secretNames].sort()) {
    const s = byName.get(n);
    const key = `${secretsFile}: ${n}`;
    if (!s) note(key, 'action', `not in the secrets file: export BERTH_SECRET_${n}=… (or ${n}) before deploying`);
    else if (s.kind === 'command') {
      // Kamal evaluates the file in its project root; Berth runs secret commands in the build context, the same folder.
      commands[n] = s.command;
      note(key, 'mapped', `secret_commands.${n}`);
    } else if (s.kind === 'variable') {
      if (s.variable === n) note(key, 'action', `read from the environment: export ${n} (or BERTH_SECRET_${n}) before deploying`);
      else {
        commands[n] = `printenv ${s.variable}`;
        note(key, 'mapped', `secret_commands.${n}: printenv ${s.variable}`);
      }
    } else if (s.kind === 'literal') {
      note(key, 'action', `a literal value (line ${s.line}) was NOT copied: export BERTH_SECRET_${n}=… before deploying, or add a secret_commands entry that prints it`);
    } else {
      note(key, 'unmapped', `uses Kamal's password-manager adapter (${s.command.split(/\s+/).slice(0, 3).join(' ')} …): put the manager's own CLI in secret_commands.${n} (e.g. "op read op://vault/item/field")`);
    }
  }
  for (const s of parsed?.secrets ?? []) {
    if (!secretNames.has(s.name)) note(`${secretsFile}: ${s.name}`, 'unmapped', 'not used by deploy.yml (nothing imported)');
  }
  for (const s of parsed?.skipped ?? []) note(`${secretsFile}:${s.line}`, 'unmapped', s.reason);
  // Every used name is declared (rules.secretsDeclared); those with a command only need secret_commands.
  const declared = [...secretNames].filter((n) => !(n in commands) || appSecretsOnly.has(n)).sort();
  if (declared.length) app.secrets = declared;
  if (Object.keys(commands).length) app.secret_commands = commands;

  if (issues.length) throw new ConfigError(issues);
  for (const [hn, ip] of Object.entries(privateIps)) {
    if (newHosts[hn]) newHosts[hn]!.private_ip = ip;
  }
  const existingIps = Object.fromEntries(Object.entries(privateIps).filter(([hn]) => !newHosts[hn]));
  return { name: name!, app: order(app), newHosts, privateIps: existingIps, notes };
}

/** A Kamal alias ("app exec -i --reuse \"bin/rails console\"", "app logs -f") as a Berth alias. */
export function mapAlias(value: string): string | undefined {
  const argv = splitCommand(value);
  if (argv[0] !== 'app') return undefined;
  if (argv[1] === 'logs') {
    const flags = argv.slice(2).filter((a) => a === '-f' || a === '--follow');
    return `berth:logs${flags.length ? ' --follow' : ''}`;
  }
  if (argv[1] !== 'exec') return undefined;
  const rest = argv.slice(2).filter((a) => !['-i', '--interactive', '--reuse'].includes(a));
  if (rest.some((a) => a.startsWith('-'))) return undefined;
  if (rest.length !== 1) return rest.length ? rest.map(shQuote).join(' ') : undefined;
  const cmd = rest[0]!;
  // Kamal hands the string to a shell in the container; Berth's exec does not, so shell syntax gets `sh -c`.
  if (/[$|;&<>(){}*?`]/.test(cmd)) return cmd.includes("'") ? undefined : `sh -c '${cmd}'`;
  return cmd;
}

type Bad = (path: string, expected: string, found: unknown, hint?: string) => void;
type Note = (key: string, status: ImportNote['status'], text: string) => void;

function mapVolumes(list: unknown, path: string, note: Note, bad: Bad): Record<string, string> {
  const out: Record<string, string> = {};
  if (list === undefined) return out;
  if (!Array.isArray(list)) {
    bad(path, 'a list of "name:/container/path"', list);
    return out;
  }
  list.forEach((v, i) => {
    const m = /^([^:]+):(\/[^:]*)(?::(ro|rw))?$/.exec(String(v));
    if (!m || m[2]!.split('/').includes('..')) return bad(`${path}[${i}]`, 'a volume "name:/container/path"', v);
    const [, src, target, mode] = m;
    if (src!.startsWith('/') || src!.startsWith('.')) return note(`${path}[${i}]`, 'unmapped', `${v}: a host path (bind mount); Berth mounts named volumes only`);
    if (!NAME.test(src!)) return note(`${path}[${i}]`, 'unmapped', `${v}: volume names are lowercase letters, digits, "-" or "_"`);
    if (mode === 'ro') note(`${path}[${i}]`, 'unmapped', `${v}: mounted read-write (no read-only volumes in Berth)`);
    out[src!] = target!;
  });
  return out;
}

/**
 * Kamal `directories:` are host folders under the accessory's service dir; Berth uses named volumes.
 * One compose project holds them all, so a name another accessory (or the app) uses already is
 * prefixed with the accessory's (Kamal keeps them apart by folder).
 */
function mapDirectories(list: unknown, path: string, note: Note, bad: Bad, accessory = '', taken: ReadonlySet<string> = new Set()): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(list)) return out;
  list.forEach((v, i) => {
    const m = /^([^:/][^:]*):(\/[^:]*)$/.exec(String(v));
    let src = m?.[1]?.toLowerCase().replace(/[^a-z0-9_-]+/g, '-');
    if (src && taken.has(src) && accessory) src = `${accessory}_${src}`;
    if (!m || !src || !NAME.test(src) || m[2]!.split('/').includes('..')) return bad(`${path}[${i}]`, 'a directory "name:/container/path"', v);
    out[src] = m[2]!;
    note(`${path}[${i}]`, 'mapped', `${v} → named volume ${src} (a Docker volume, not a host folder)`);
  });
  return out;
}

const PROXY_EDGE_KEYS = ['response_timeout', 'buffering', 'path_prefix', 'path_prefixes', 'strip_path_prefix'];
const PATH_PREFIX = /^(\/[A-Za-z0-9._~-]+)+$/;

/** Kamal's sizes: a number, or Ruby's "40_000_000" read as a string by a YAML 1.2 parser. */
const kamalBytes = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : typeof v === 'string' && /^\d[\d_]*$/.test(v) ? Number(v.replace(/_/g, '')) : undefined;

/** proxy.response_timeout, proxy.buffering, proxy.path_prefix(es) and proxy.strip_path_prefix. */
function mapProxyEdge(proxy: Obj, app: Obj, note: Note, bad: Bad) {
  if (proxy.response_timeout !== undefined) {
    const t = seconds(proxy.response_timeout);
    if (!t) bad('proxy.response_timeout', 'a number of seconds', proxy.response_timeout);
    else {
      app.response_timeout = t;
      note('proxy.response_timeout', 'mapped', `response_timeout: ${t} (504 after it)`);
    }
  }
  const b = proxy.buffering;
  if (isObj(b)) {
    // Kamal buffers both unless told not to; Traefik buffers requests and responses together.
    const requests = b.requests !== false;
    const responses = b.responses !== false;
    const on = requests;
    const out: Obj = { requests: on, responses: on };
    for (const key of ['max_request_body', 'max_response_body', 'memory'] as const) {
      if (b[key] === undefined) continue;
      const n = kamalBytes(b[key]);
      if (n === undefined) bad(`proxy.buffering.${key}`, 'a size in bytes such as 40_000_000', b[key]);
      else if (on || key === 'memory') out[key] = n;
      else note(`proxy.buffering.${key}`, 'unmapped', 'a limit needs request buffering, which this config turns off (as in Kamal, where it is ignored then)');
    }
    app.buffering = out;
    note('proxy.buffering', 'mapped', `buffering ${q(out)}${requests !== responses ? ` — Kamal buffered ${requests ? 'requests only' : 'responses only'}; Traefik's buffering middleware buffers both or neither${on ? ' (server-sent events are held back until they end)' : ''}` : ''}`);
    for (const key of Object.keys(b)) if (!['requests', 'responses', 'max_request_body', 'max_response_body', 'memory'].includes(key)) note(`proxy.buffering.${key}`, 'unmapped', 'no Berth key');
  } else {
    note('proxy.buffering', 'mapped', "Kamal buffers requests and responses by default, Berth does not (Traefik's buffering would hold back server-sent events); add buffering: { requests: true, responses: true } to buffer, with max_request_body for a limit");
  }
  const raw = Array.isArray(proxy.path_prefixes) ? proxy.path_prefixes.map(String) : typeof proxy.path_prefix === 'string' ? proxy.path_prefix.split(',') : [];
  const prefixes = raw.map((p) => p.trim().replace(/\/+$/, '')).filter(Boolean);
  const okPrefixes = prefixes.filter((p) => {
    if (PATH_PREFIX.test(p) && !p.split('/').some((x) => x === '.' || x === '..')) return true;
    bad(Array.isArray(proxy.path_prefixes) ? 'proxy.path_prefixes' : 'proxy.path_prefix', 'path prefixes such as "/api" (segments of letters, digits and . _ ~ -)', p);
    return false;
  });
  if (okPrefixes.length) {
    app.path_prefix = okPrefixes.length === 1 ? okPrefixes[0] : okPrefixes;
    note(Array.isArray(proxy.path_prefixes) ? 'proxy.path_prefixes' : 'proxy.path_prefix', 'mapped', `path_prefix ${q(app.path_prefix)}`);
  }
  if (typeof proxy.strip_path_prefix === 'boolean') {
    app.strip_path_prefix = proxy.strip_path_prefix;
    note('proxy.strip_path_prefix', 'mapped', `strip_path_prefix: ${proxy.strip_path_prefix}`);
  }
}

const joinRel = (a: string, b: string) => (a === '.' || !a ? b : b === '.' ? a : `${a.replace(/\/$/, '')}/${b.replace(/^\.\//, '')}`);

const ORDER = ['$schema', 'image', 'build', 'registry', 'secret_commands', 'hosts', 'web', 'domains', 'www', 'path_prefix', 'strip_path_prefix', 'tls', 'port', 'healthcheck', 'response_timeout', 'buffering', 'error_pages_path', 'command', 'env', 'secrets', 'volumes', 'per_host_volumes', 'resources', 'workers', 'accessories', 'hooks', 'aliases', 'deploy'];
const order = (o: Obj): Obj => Object.fromEntries(Object.entries(o).sort(([a], [b]) => idx(a) - idx(b)));
const idx = (k: string) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);

/** app.yml text: a header naming the source and every note, then the config. */
export function formatNotes(notes: ImportNote[]): string {
  const tag = { mapped: 'mapped  ', unmapped: 'UNMAPPED', action: 'TODO    ' } as const;
  return notes.map((n) => `${tag[n.status]} ${n.key}: ${n.text}`).join('\n');
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The override that turns `base` into `dest` (mergeOverride semantics: null removes a key, lists replace). */
export function overrideOf(base: Obj, dest: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(dest)) {
    if (same(base[k], v)) continue;
    out[k] = isObj(base[k]) && isObj(v) ? overrideOf(base[k] as Obj, v) : v;
  }
  for (const k of Object.keys(base)) if (!(k in dest)) out[k] = null;
  return out;
}

/**
 * A Kamal destination (`config/deploy.<destination>.yml`, deep-merged over deploy.yml by Kamal) as a
 * Berth override file: the destination is imported whole, then only what differs from the base import
 * is kept. Its new hosts join hosts.json like the base's.
 */
export function importKamalDestination(input: KamalImportInput, base: KamalImport, destination: string, destDeploy: unknown, destFile: string): KamalImport & { override: Obj } {
  const merged = mergeKamal(input.deploy, destDeploy);
  const existing = { ...(input.existingHosts ?? {}), ...Object.fromEntries(Object.entries(base.newHosts).map(([n, h]) => [n, { ssh: h.ssh, ...(h.private_ip ? { private_ip: h.private_ip } : {}) }])) };
  const r = importKamal({ ...input, deploy: merged, deployFile: destFile, name: base.name, existingHosts: existing });
  const baseNotes = new Set(base.notes.map((n) => `${n.key}|${n.text}`));
  return {
    ...r,
    name: `${base.name}-${destination}`,
    override: overrideOf(base.app, r.app),
    notes: r.notes.filter((n) => !baseNotes.has(`${n.key}|${n.text}`)).map((n) => ({ ...n, key: `[${destination}] ${n.key}` })),
  };
}

/** Kamal's destination merge: mappings deep-merged, everything else replaced. */
export function mergeKamal(base: unknown, over: unknown): unknown {
  if (!isObj(base) || !isObj(over)) return over === undefined ? base : over;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeKamal(base[k], v);
  return out;
}

/** A role's `options`: memory and cpus as resources (others listed as unmapped). */
function roleResources(options: unknown, path: string, note: Note): Obj | undefined {
  if (!isObj(options)) return undefined;
  const res: Obj = {};
  if (options.memory !== undefined) res.memory = String(options.memory);
  if (options.cpus !== undefined) res.cpus = Number(options.cpus);
  for (const o of Object.keys(options)) if (!['memory', 'cpus'].includes(o)) note(`${path}.${o}`, 'unmapped', 'docker run options other than memory and cpus have no Berth key');
  return Object.keys(res).length ? res : undefined;
}

/** One SSH target written two ways ("root@h" and "root@h:22"). */
const sameSsh = (a: string, b: string) => a.replace(/:22$/, '') === b.replace(/:22$/, '');

/** RFC 1918, CGNAT (100.64/10, Tailscale) and IPv6 ULA addresses: an SSH address there is a private network's. */
export function isPrivateAddress(a: string): boolean {
  const m = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(a);
  if (m) {
    const [x, y] = [Number(m[1]), Number(m[2])];
    return x === 10 || (x === 172 && y >= 16 && y <= 31) || (x === 192 && y === 168) || (x === 100 && y >= 64 && y <= 127);
  }
  return /^f[cd][0-9a-f]{2}:/i.test(a);
}

/** Kamal `files: ["local:/container/path"]` (local relative to the Kamal project) → Berth's files (container path → file from the app folder). */
function mapFiles(list: unknown, path: string, note: Note, bad: Bad, kamalRoot: string, exists: (p: string) => boolean = () => true): Record<string, string> {
  const out: Record<string, string> = {};
  if (list === undefined) return out;
  if (!Array.isArray(list)) {
    bad(path, 'a list of "local/file:/container/path"', list);
    return out;
  }
  list.forEach((v, i) => {
    const m = /^([^:]+):(\/[A-Za-z0-9._@+\/-]*)$/.exec(String(v));
    if (!m || m[2]!.split('/').includes('..') || /["'`$\\]/.test(m[1]!)) return bad(`${path}[${i}]`, 'a file "local/path:/container/path"', v);
    if (!exists(m[1]!)) return note(`${path}[${i}]`, 'action', `${v}: ${m[1]} is not in the Kamal project (yet): create it, then add files: { "${m[2]}": ${joinRel(kamalRoot, m[1]!)} } to the accessory`);
    out[m[2]!] = joinRel(kamalRoot, m[1]!);
    const erb = m[1]!.endsWith('.erb');
    note(`${path}[${i}]`, erb ? 'action' : 'mapped', `${v} → files["${m[2]}"] (uploaded to the accessory's host, mounted read-only)${erb ? ': Kamal renders .erb files, Berth uploads them as they are: render it into a plain file and point files at that' : ''}`);
  });
  return out;
}
