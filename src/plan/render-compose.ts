// compose.yml of one app release (PURE). Both colours are defined with the same image and config;
// a deploy starts only the idle one (`up --no-deps web-<idle>`), so the live colour keeps running
// from its own release. Accessories, the replicator and backup loops carry no release-specific
// values, so compose leaves them alone from one release to the next unless their config changes.
import type { AccessoryConfig, App } from '../config/schema.ts';
import {
  appProject,
  appSecretSetsDir,
  appSecretsDir,
  appSecretsEnv,
  backupService,
  dumpDir,
  COLOURS,
  type Colour,
  LABEL,
  LITESTREAM_SERVICE,
  RELEASE_SERVICE,
  assetsVolumeDir,
  litestreamConfigPath,
  NETWORK,
  webAlias,
  webService,
  BACKUP_MOUNT,
  LITESTREAM_CONFIG_MOUNT,
  runSecret,
  accessoryFileHostPath,
} from '../names.ts';
import { shQuote } from '../docker/command.ts';
import { registryOf } from '../config/registry.ts';
import { BACKUP_SCRIPT_NAME, backupScript } from './backup-script.ts';
import { ENTRY_WRAPPER_SH, IMAGE_CMD_VAR, IMAGE_ENTRYPOINT_VAR, SECRET_TEMPLATES_VAR, secretRefs, WRAPPER_NAME } from './secret-env.ts';
import { composeLiteral, generatedHeader, quoted, sortedRecord, toYaml } from './yaml.ts';
import { SECRETS_ID_VAR, secretsIdVar } from './secret-sets.ts';
import type { HostProcesses } from './placement.ts';

export interface ComposeInput {
  app: App;
  release: string;
  image: string;
  /** Hash of the app config (label berth.config-hash). */
  configHash: string;
  /** Hash of the rendered litestream.yml, when the app replicates (label on the litestream service). */
  litestreamHash?: string;
  /** One host's part when the app's processes are placed differently per host (src/plan/placement.ts); absent: everything. */
  host?: HostPart;
}

/** What one host runs and how its processes reach the accessories (from the placement). */
export interface HostPart {
  name: string;
  processes: HostProcesses;
  /** `<NAME>_HOST` / `<NAME>_PORT` of the accessories reached across hosts, as seen from this host. */
  env: Record<string, string>;
  /** Accessory → the port binding published on this host (a shared accessory: on its private_ip). */
  bindings: Record<string, string | undefined>;
}

/** Label on the litestream service carrying the hash of its config file. */
export const LITESTREAM_CONFIG_LABEL = 'berth.litestream-config-hash';

const LOGGING = { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '5' } };

type Env = Record<string, string>;

/**
 * An env value from config, for compose. Config env values use compose's syntax for the one thing
 * they may interpolate, a declared secret: `${NAME}` (checked by config rules) becomes a required
 * reference; `$$` stays a literal `$`; any other `$` is escaped, so compose never expands it.
 */
export function composeEnvValue(value: string | number | boolean): string {
  return String(value).replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$/g, (m, name: string | undefined) =>
    m === '$$' ? '$$' : name ? secretRef(name) : '$$',
  );
}

/** Plain env with values stringified (secret references kept, other `$` literal). */
function plainEnv(env: Record<string, string | number | boolean>): Env {
  const out: Env = {};
  for (const [k, v] of Object.entries(env)) out[k] = composeEnvValue(v);
  return out;
}

/**
 * Secret values reach compose through the environment of the `docker compose` process on the
 * operator machine (env_file would be read there too, where the host-only file does not exist).
 * Berth refuses to deploy before running compose when any value is missing, so the reference is a
 * plain `${NAME}`: the committed compose/ files stay checkable with `docker compose config -q`
 * without secrets. By hand on the server: `docker compose --env-file <appSecretsEnv> -f compose.yml …`.
 */
const secretRef = (name: string) => `\${${name}}`;

/**
 * Secrets the app's own processes receive: the declared ones, minus those Berth itself consumes
 * (registry login, Litestream's keys, the origin key), which the app never needs in its env.
 */
function appSecrets(app: App): string[] {
  const c = app.config;
  const infra = new Set<string>([
    ...(registryOf(c) ? [registryOf(c)!.password_secret] : []),
    ...(c.litestream ? [c.litestream.replica.access_key_id_secret, c.litestream.replica.secret_access_key_secret] : []),
    ...(c.tls.mode === 'origin-certificate' ? [c.tls.key_secret] : []),
  ]);
  return c.secrets.filter((s) => !infra.has(s)).sort();
}

/**
 * Environment and secret mounts of a service running the app image (colours, workers, the release
 * command): plain values as they are; values referencing a secret keep the reference as literal
 * text, expanded by the wrapper at start, so no value is ever container env.
 */
function appEnvAndSecrets(app: App, host?: HostPart): { environment: Env; secrets: string[] } {
  const env: Env = {};
  const templates: string[] = [];
  const mounted = new Set(appSecrets(app));
  const c = app.config;
  for (const k of Object.keys(c.env).sort()) {
    const v = String(c.env[k]);
    const refs = secretRefs(v);
    if (refs.length) {
      templates.push(k);
      refs.forEach((r) => mounted.add(r));
      env[k] = composeLiteral(v.replace(/\$\$/g, '$'));
    } else env[k] = composeEnvValue(v);
  }
  // Where the accessories other hosts share are reached from this host (rules keep these names out of env).
  for (const k of Object.keys(host?.env ?? {}).sort()) env[k] = composeEnvValue(host!.env[k]!);
  env[IMAGE_ENTRYPOINT_VAR] = `\${${IMAGE_ENTRYPOINT_VAR}:-}`;
  env[IMAGE_CMD_VAR] = `\${${IMAGE_CMD_VAR}:-}`;
  if (templates.length) env[SECRET_TEMPLATES_VAR] = templates.join(' ');
  return { environment: env, secrets: [...mounted].sort() };
}

/** The wrapper as entrypoint: /run/secrets → env, then the image's entrypoint + command. */
const WRAPPER_ENTRYPOINT = ['/bin/sh', '-c', composeLiteral(ENTRY_WRAPPER_SH), WRAPPER_NAME];

const volumeList = (volumes: Record<string, string>) => Object.keys(volumes).sort().map((v) => `${v}:${volumes[v]}`);

function webLike(input: ComposeInput, role: string, colour?: Colour) {
  const c = input.app.config;
  const labels: Env = {
    [LABEL.managed]: 'true',
    [LABEL.app]: input.app.name,
    ...(colour ? { [LABEL.colour]: colour } : {}),
    [LABEL.release]: input.release,
    [LABEL.configHash]: input.configHash,
    [LABEL.role]: role,
    // The secret set the container mounts (secret-sets.ts): interpolated, so the file stays pure.
    [LABEL.secrets]: secretsIdRef(SECRETS_ID_VAR),
  };
  const svc: Record<string, unknown> = { image: input.image };
  return { svc, labels: sortedRecord(labels), c };
}

function resources(input: ComposeInput, own?: App['config']['resources']): Record<string, unknown> {
  const r = own ?? input.app.config.resources;
  const out: Record<string, unknown> = {};
  if (r?.memory) out.mem_limit = r.memory.toLowerCase();
  if (r?.cpus !== undefined) out.cpus = r.cpus;
  return out;
}

/**
 * The default health check: curl the path on the container port. The path is config text reaching
 * a shell (CMD-SHELL), so it is one quoted word: whatever it holds cannot change the command.
 */
export const healthCommand = (port: number, path: string) => `curl -fsS ${shQuote(`http://127.0.0.1:${port}${path}`)} > /dev/null || exit 1`;

/**
 * The volumes of the colours and the release command: the app's own, and with asset bridging this
 * release's merged assets directory, prepared on the host before the colour starts; read-only,
 * since releases share its files (hard links).
 */
function releaseVolumes(input: ComposeInput): string[] {
  const c = input.app.config;
  const volumes = volumeList(c.volumes);
  if (c.asset_path) volumes.push(`${assetsVolumeDir(input.app.name, input.release)}:${c.asset_path}:ro`);
  return volumes;
}

function webService_(input: ComposeInput, colour: Colour): Record<string, unknown> {
  const { svc, labels, c } = webLike(input, 'web', colour);
  const { environment, secrets } = appEnvAndSecrets(input.app, input.host);
  svc.entrypoint = WRAPPER_ENTRYPOINT;
  if (c.command) svc.command = composeLiteral(c.command);
  svc.environment = environment;
  if (secrets.length) svc.secrets = secrets;
  svc.labels = labels;
  const hc = c.healthcheck;
  svc.healthcheck = {
    test: ['CMD-SHELL', composeLiteral(hc.command ?? healthCommand(c.port, hc.path))],
    interval: hc.interval,
    timeout: hc.timeout,
    retries: hc.retries,
    start_period: hc.start_period,
    start_interval: hc.start_interval,
  };
  svc.restart = c.restart;
  svc.stop_grace_period = `${c.deploy.stop_timeout_seconds}s`;
  const volumes = releaseVolumes(input);
  if (volumes.length) svc.volumes = volumes;
  Object.assign(svc, resources(input));
  svc.logging = LOGGING;
  svc.networks = { [NETWORK]: { aliases: [webAlias(input.app.name, colour)] }, default: {} };
  return svc;
}

function workerService(input: ComposeInput, worker: App['config']['workers'][string]): Record<string, unknown> {
  const { svc, labels, c } = webLike(input, 'worker');
  const { environment, secrets } = appEnvAndSecrets(input.app, input.host);
  svc.entrypoint = WRAPPER_ENTRYPOINT;
  svc.command = composeLiteral(worker.command);
  svc.environment = environment;
  if (secrets.length) svc.secrets = secrets;
  svc.labels = labels;
  svc.restart = c.restart;
  svc.stop_grace_period = `${c.deploy.stop_timeout_seconds}s`;
  if (Object.keys(c.volumes).length) svc.volumes = volumeList(c.volumes);
  Object.assign(svc, resources(input, worker.resources));
  svc.logging = LOGGING;
  return svc;
}

/**
 * The release command's one-off service (`compose run --rm release <command>`): the web colours'
 * image, env, secrets, volumes and limits, without their route, health check or restart policy, and
 * only on the app's network (what the command reaches: its accessories, the outside).
 */
function releaseServiceDef(input: ComposeInput): Record<string, unknown> {
  const { svc, labels } = webLike(input, 'release');
  const { environment, secrets } = appEnvAndSecrets(input.app, input.host);
  svc.entrypoint = WRAPPER_ENTRYPOINT;
  svc.environment = environment;
  if (secrets.length) svc.secrets = secrets;
  svc.labels = labels;
  svc.profiles = [RELEASE_SERVICE];
  const volumes = releaseVolumes(input);
  if (volumes.length) svc.volumes = volumes;
  Object.assign(svc, resources(input));
  svc.logging = LOGGING;
  return svc;
}

const isImage = (image: string, name: string) => new RegExp(`(^|/)${name}(:|@|$)`).test(image);

/** Health check of an accessory: its own, or a default for images Berth knows. */
function accessoryHealth(acc: AccessoryConfig): Record<string, unknown> | undefined {
  const cmd = acc.healthcheck?.command ?? (isImage(acc.image, 'postgres') ? 'pg_isready -U "${POSTGRES_USER:-postgres}"' : isImage(acc.image, 'redis') ? 'redis-cli ping' : undefined);
  if (!cmd) return undefined;
  return {
    test: ['CMD-SHELL', composeLiteral(cmd)],
    interval: acc.healthcheck?.interval ?? '2s',
    timeout: '5s',
    retries: acc.healthcheck?.retries ?? 30,
    start_period: '5s',
    start_interval: '1s',
  };
}

function accessoryEnv(acc: AccessoryConfig): Env {
  const env: Env = plainEnv(acc.env);
  for (const s of acc.secrets) env[`${s}_FILE`] = runSecret(s);
  return sortedRecord(env);
}

function accessoryLabels(app: string, role: string, service?: string): Env {
  return sortedRecord({ [LABEL.managed]: 'true', [LABEL.app]: app, [LABEL.role]: role, ...(service ? { [LABEL.secrets]: secretsIdRef(secretsIdVar(service)) } : {}) });
}

/** `${VAR:-}`: compose fills it from the release's env (empty in a bare `compose config`). */
const secretsIdRef = (v: string) => `\${${v}:-}`;

function accessoryService(app: string, name: string, acc: AccessoryConfig, binding = acc.port): Record<string, unknown> {
  const svc: Record<string, unknown> = { image: acc.image };
  if (acc.command) svc.command = composeLiteral(acc.command);
  const env = accessoryEnv(acc);
  if (Object.keys(env).length) svc.environment = env;
  if (acc.secrets.length) svc.secrets = [...acc.secrets].sort();
  svc.labels = accessoryLabels(app, `accessory:${name}`, acc.secrets.length ? name : undefined);
  if (binding) svc.ports = [quoted(binding)];
  // Kamal's `files`: uploaded with each release to a fixed host path, mounted read-only.
  const files = Object.keys(acc.files ?? {}).sort().map((target) => `${accessoryFileHostPath(app, name, target)}:${target}:ro`);
  if (Object.keys(acc.volumes).length || files.length) svc.volumes = [...volumeList(acc.volumes), ...files];
  const hc = accessoryHealth(acc);
  if (hc) svc.healthcheck = hc;
  svc.restart = 'unless-stopped';
  svc.logging = LOGGING;
  return svc;
}

/** The host's zone file as the container's /etc/localtime (read-only), so "03:00" means the server's 03:00. */
function localtimeMount(timezone: string): string[] {
  if (timezone === 'UTC') return [];
  const src = timezone === 'host' ? '/etc/localtime' : `/usr/share/zoneinfo/${timezone}`;
  return [`${src}:/etc/localtime:ro`];
}

function backupServiceDef(app: string, name: string, acc: AccessoryConfig): Record<string, unknown> {
  const b = acc.backup!;
  const env: Env = {
    ...accessoryEnv(acc),
    BERTH_BACKUP_HOST: name,
    BERTH_BACKUP_KEEP: String(b.keep),
    BERTH_BACKUP_NAME: name,
    BERTH_BACKUP_SCHEDULE: b.schedule,
    // "UTC" pins the clock; "host" and a named zone come from the mounted /etc/localtime.
    ...(b.timezone === 'UTC' ? { TZ: 'UTC' } : {}),
  };
  const svc: Record<string, unknown> = {
    image: acc.image,
    entrypoint: ['/bin/sh', '-c', composeLiteral(backupScript()), BACKUP_SCRIPT_NAME],
    command: ['loop'],
    environment: sortedRecord(env),
  };
  if (acc.secrets.length) svc.secrets = [...acc.secrets].sort();
  svc.labels = accessoryLabels(app, `backup:${name}`, acc.secrets.length ? backupService(name) : undefined);
  svc.volumes = [`${dumpDir(app, name, b.dir)}:${BACKUP_MOUNT}`, ...localtimeMount(b.timezone)];
  svc.restart = 'unless-stopped';
  svc.logging = LOGGING;
  return svc;
}

function litestreamService(input: ComposeInput): Record<string, unknown> {
  const { app } = input;
  const ls = app.config.litestream!;
  // Litestream reads LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY itself; the app's
  // secrets are mounted under those names and exported by the wrapper, so litestream.yml never
  // holds or names a credential and the container's env holds none either.
  const volumes = [...volumeList(app.config.volumes), `${litestreamConfigPath(app.name)}:${LITESTREAM_CONFIG_MOUNT}:ro`];
  return {
    image: ls.image,
    entrypoint: WRAPPER_ENTRYPOINT,
    command: ['litestream', 'replicate'],
    secrets: [
      { source: ls.replica.access_key_id_secret, target: 'LITESTREAM_ACCESS_KEY_ID' },
      { source: ls.replica.secret_access_key_secret, target: 'LITESTREAM_SECRET_ACCESS_KEY' },
    ],
    labels: sortedRecord({ ...accessoryLabels(app.name, 'litestream', LITESTREAM_SERVICE), [LITESTREAM_CONFIG_LABEL]: input.litestreamHash ?? '' }),
    volumes,
    restart: 'unless-stopped',
    stop_grace_period: '30s',
    logging: LOGGING,
    // The shared network too: the replica endpoint may be a service on it (the sandbox S3), and
    // the default network alone has no name for it.
    networks: { [NETWORK]: {}, default: {} },
  };
}

export function renderCompose(input: ComposeInput): string {
  const { app, host } = input;
  const c = app.config;
  // Everything, or only what this host runs (placement): a person running compose on it gets its part.
  const on = host?.processes;
  const image = !on || on.image;
  const services: Record<string, unknown> = {};
  if (!on || on.web) for (const colour of COLOURS) services[webService(colour)] = webService_(input, colour);
  for (const w of Object.keys(c.workers).sort()) if (!on || on.workers.includes(w)) services[`worker-${w}`] = workerService(input, c.workers[w]!);
  // Where the colours run: the release command runs beside them (release-gate.ts).
  if (c.release_command && (!on || on.web)) services[RELEASE_SERVICE] = releaseServiceDef(input);
  if (c.litestream && image) services[LITESTREAM_SERVICE] = litestreamService(input);
  const secrets = new Set<string>(image ? appEnvAndSecrets(app, host).secrets : []);
  if (c.litestream && image) [c.litestream.replica.access_key_id_secret, c.litestream.replica.secret_access_key_secret].forEach((s) => secrets.add(s));
  const accessories = Object.keys(c.accessories).sort().filter((a) => !on || on.accessories.includes(a));
  for (const name of accessories) {
    const acc = c.accessories[name]!;
    services[name] = accessoryService(app.name, name, acc, host ? host.bindings[name] : acc.port);
    if (acc.backup) services[backupService(name)] = backupServiceDef(app.name, name, acc);
    for (const s of acc.secrets) secrets.add(s);
  }

  const volumeNames = new Set<string>(image ? Object.keys(c.volumes) : []);
  for (const a of accessories) for (const v of Object.keys(c.accessories[a]!.volumes)) volumeNames.add(v);

  const doc: Record<string, unknown> = { name: appProject(app.name), services };
  if (volumeNames.size) doc.volumes = Object.fromEntries([...volumeNames].sort().map((v) => [v, {}]));
  // The release's own set (secret-sets.ts); "none" makes a run without the env file fail visibly.
  if (secrets.size) doc.secrets = Object.fromEntries([...secrets].sort().map((s) => [s, { file: `${appSecretSetsDir(app.name)}/\${${SECRETS_ID_VAR}:-none}/${s}` }]));
  doc.networks = { [NETWORK]: { external: true }, default: {} };

  const header = generatedHeader(
    app.file,
    [
      `Compose project ${appProject(app.name)}, release ${input.release}${host ? `: what host ${host.name} runs` : ''}.`,
      ` Secret values are never written here nor put in container env: each release mounts its own set of files,`,
      ` ${appSecretSetsDir(app.name)}/<set>/ (compose secrets), exported by the /bin/sh entrypoint wrapper at start.`,
      ` By hand on the server: docker compose --env-file ${appSecretsDir(app.name)}/releases/<release>.env -f compose.yml …`,
      ` (it names the set and holds the image's entrypoint/command; ${appSecretsEnv(app.name)} is the live release's).`,
    ].join('\n'),
  );
  return toYaml(doc, header);
}
