// PURE mapping of a Kamal 2 config (config/deploy.yml, parsed) to a Berth app config plus hosts.json
// entries and notes: what mapped where, what could not and why, and what the operator must do
// (export a secret whose literal value was deliberately not copied). No file system access here:
// src/import/kamal-files.ts reads and writes.
import { ConfigError, type Issue } from '../errors.ts';
import { appSchema } from '../config/schema.ts';
import { shQuote, splitCommand } from '../docker/command.ts';
import { parseKamalSecrets, type KamalSecret } from './kamal-secrets.ts';

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
  existingHosts?: Record<string, { ssh: string }>;
}

export interface KamalImport {
  name: string;
  app: Record<string, unknown>;
  /** hosts.json entries to add (new names only). */
  newHosts: Record<string, KamalHost>;
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
  error_pages_path: 'custom proxy error pages have no Berth key',
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
  const localRegistry = !!server && /^(localhost|127\.0\.0\.1)(:\d+)?$/.test(server);
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
    note('registry.server', 'unmapped', `Kamal's local registry (${server}) is tunnelled over SSH; Berth builds on the host instead (build.on: host), no registry needed`);
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
      if (isObj(r.options)) {
        const res: Obj = {};
        if (r.options.memory !== undefined) res.memory = String(r.options.memory);
        if (r.options.cpus !== undefined) res.cpus = Number(r.options.cpus);
        if (Object.keys(res).length) {
          app.resources = res;
          note(`servers.${role}.options`, 'mapped', `resources ${q(res)}`);
        }
        for (const o of Object.keys(r.options)) if (!['memory', 'cpus'].includes(o)) note(`servers.${role}.options.${o}`, 'unmapped', 'docker run options other than memory and cpus have no Berth key');
      }
      if (typeof r.cmd === 'string') app.command = r.cmd;
    } else if (typeof r.cmd === 'string') {
      if (!NAME.test(role)) continue;
      (app.workers ??= {}) as Obj;
      (app.workers as Obj)[role] = { command: r.cmd };
      note(`servers.${role}`, 'mapped', `workers.${role} (Berth runs workers from the same image on the app's hosts)`);
    } else note(`servers.${role}`, 'unmapped', `role ${role} has no cmd; Berth has no second web role (its hosts are still listed in hosts.json with role ${role})`);
    for (const key of ['labels', 'env', 'proxy', 'logging']) {
      if (key in r) note(`servers.${role}.${key}`, 'unmapped', key === 'labels' ? UNMAPPED_TOP.labels! : `per-role ${key} has no Berth key; move what you need to the app's ${key}`);
    }
  }

  // hosts.json names: reuse a listed server with the same SSH target, else a name derived from the address.
  const existing = input.existingHosts ?? {};
  const newHosts: Record<string, KamalHost> = {};
  const nameOf = new Map<string, string>();
  for (const [address, h] of hostOf) {
    const same = Object.entries(existing).find(([, e]) => e.ssh === h.ssh);
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
  const appHosts = [...new Set((roleHosts[primary] ?? Object.values(roleHosts)[0] ?? []).map((a) => nameOf.get(a)!).filter(Boolean))];
  app.hosts = appHosts;
  for (const [role, addrs] of Object.entries(roleHosts)) {
    if (role === primary) continue;
    const extra = addrs.filter((a) => !(roleHosts[primary] ?? []).includes(a));
    if (extra.length) note(`servers.${role}`, 'unmapped', `hosts ${extra.join(', ')} are only in role ${role}; Berth runs the app (and its workers) on ${appHosts.join(', ') || 'the primary role'}`);
  }

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
    for (const key of Object.keys(proxy)) {
      if (!['host', 'hosts', 'ssl', 'app_port', 'healthcheck'].includes(key)) {
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
      else outEnv[key] = typeof v === 'string' ? v.replace(/\$/g, '$$$$') : typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
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
      if (spec.port !== undefined) {
        const p = String(spec.port);
        const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5})(?::(\d{1,5}))?$/.exec(p);
        if (!m) bad(`${path}.port`, 'a port or binding such as 5432 or "127.0.0.1:5432:5432"', spec.port);
        else {
          const [, ip, a, b] = m;
          acc.port = `${ip ?? '127.0.0.1'}:${a}:${b ?? a}`;
          if (!ip) note(`${path}.port`, 'mapped', `${acc.port} (bound to 127.0.0.1: Kamal publishes ${p} on every interface)`);
        }
      }
      const aenv = isObj(spec.env) ? spec.env : undefined;
      if (aenv) {
        const hasSections = 'clear' in aenv || 'secret' in aenv;
        const clear = hasSections ? (isObj(aenv.clear) ? aenv.clear : {}) : aenv;
        const e: Obj = {};
        for (const [key, v] of Object.entries(clear)) {
          if (!ENV_NAME.test(key)) bad(`${path}.env.clear.${key}`, 'an UPPER_SNAKE_CASE variable name', key);
          else e[key] = typeof v === 'string' ? v.replace(/\$/g, '$$$$') : (v as string | number | boolean);
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
      const vols = { ...mapVolumes(spec.volumes, `${path}.volumes`, note, bad), ...mapDirectories(spec.directories, `${path}.directories`, note, bad) };
      if (Object.keys(vols).length) acc.volumes = vols;
      if (typeof spec.cmd === 'string') acc.command = spec.cmd;
      for (const key of Object.keys(spec)) {
        if (['image', 'port', 'env', 'volumes', 'directories', 'cmd', 'host', 'hosts', 'role', 'roles', 'service'].includes(key)) continue;
        note(`${path}.${key}`, 'unmapped', key === 'files' ? 'files copied from the Kamal project have no Berth key (build them into an image, or mount a volume)' : 'no Berth key');
      }
      if ('host' in spec || 'hosts' in spec || 'role' in spec || 'roles' in spec) note(`${path}.host`, 'mapped', "Berth runs an app's accessories on each of the app's hosts");
      accs[an] = acc;
    }
    if (Object.keys(accs).length) app.accessories = accs;
    // Kamal names an accessory's container <service>-<accessory>; in Berth the app reaches it by its name.
    const appEnv = (app.env ?? {}) as Obj;
    for (const [key, v] of Object.entries(appEnv)) {
      const acc = Object.keys(accs).find((a) => typeof service === 'string' && v === `${service}-${a}`);
      if (acc) {
        appEnv[key] = acc;
        note(`env.clear.${key}`, 'mapped', `${q(v)} → ${q(acc)} (the accessory's name on the app's network)`);
      }
    }
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

  // ---------------------------------------------------------------- the rest of the top level
  const HANDLED = ['service', 'image', 'servers', 'registry', 'builder', 'ssh', 'proxy', 'env', 'volumes', 'asset_path', 'accessories', 'aliases', 'healthcheck', 'primary_role', 'retain_containers', 'deploy_timeout', 'drain_timeout', 'boot', 'hooks_path'];
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
  return { name: name!, app: order(app), newHosts, notes };
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

/** Kamal `directories:` are host folders under the accessory's service dir; Berth uses named volumes. */
function mapDirectories(list: unknown, path: string, note: Note, bad: Bad): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(list)) return out;
  list.forEach((v, i) => {
    const m = /^([^:/][^:]*):(\/[^:]*)$/.exec(String(v));
    const src = m?.[1]?.toLowerCase().replace(/[^a-z0-9_-]+/g, '-');
    if (!m || !src || !NAME.test(src) || m[2]!.split('/').includes('..')) return bad(`${path}[${i}]`, 'a directory "name:/container/path"', v);
    out[src] = m[2]!;
    note(`${path}[${i}]`, 'mapped', `${v} → named volume ${src} (a Docker volume, not a host folder)`);
  });
  return out;
}

const joinRel = (a: string, b: string) => (a === '.' || !a ? b : b === '.' ? a : `${a.replace(/\/$/, '')}/${b.replace(/^\.\//, '')}`);

const ORDER = ['$schema', 'image', 'build', 'registry', 'secret_commands', 'hosts', 'domains', 'www', 'tls', 'port', 'healthcheck', 'command', 'env', 'secrets', 'volumes', 'resources', 'workers', 'accessories', 'hooks', 'aliases', 'deploy'];
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
  const existing = { ...(input.existingHosts ?? {}), ...Object.fromEntries(Object.entries(base.newHosts).map(([n, h]) => [n, { ssh: h.ssh }])) };
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
function mergeKamal(base: unknown, over: unknown): unknown {
  if (!isObj(base) || !isObj(over)) return over === undefined ? base : over;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeKamal(base[k], v);
  return out;
}
