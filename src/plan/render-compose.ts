// compose.yml of one app release (PURE). Both colours are defined with the same image and config;
// a deploy starts only the idle one (`up --no-deps web-<idle>`), so the live colour keeps running
// from its own release. Accessories, the replicator and backup loops carry no release-specific
// values, so compose leaves them alone from one release to the next unless their config changes.
import type { AccessoryConfig, App } from '../config/schema.ts';
import {
  appProject,
  appSecretFile,
  appSecretsEnv,
  backupService,
  dumpDir,
  COLOURS,
  type Colour,
  LABEL,
  LITESTREAM_SERVICE,
  assetsVolumeDir,
  litestreamConfigPath,
  NETWORK,
  webAlias,
  webService,
  BACKUP_MOUNT,
  LITESTREAM_CONFIG_MOUNT,
  runSecret,
} from '../names.ts';
import { shQuote } from '../docker/command.ts';
import { BACKUP_SCRIPT_NAME, backupScript } from './backup-script.ts';
import { ENTRY_WRAPPER_SH, IMAGE_CMD_VAR, IMAGE_ENTRYPOINT_VAR, SECRET_TEMPLATES_VAR, secretRefs, WRAPPER_NAME } from './secret-env.ts';
import { composeLiteral, generatedHeader, quoted, sortedRecord, toYaml } from './yaml.ts';

export interface ComposeInput {
  app: App;
  release: string;
  image: string;
  /** Hash of the app config (label berth.config-hash). */
  configHash: string;
  /** Hash of the rendered litestream.yml, when the app replicates (label on the litestream service). */
  litestreamHash?: string;
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
    ...(c.registry ? [c.registry.password_secret] : []),
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
function appEnvAndSecrets(app: App): { environment: Env; secrets: string[] } {
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
  };
  const svc: Record<string, unknown> = { image: input.image };
  return { svc, labels: sortedRecord(labels), c };
}

function resources(input: ComposeInput): Record<string, unknown> {
  const r = input.app.config.resources;
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

function webService_(input: ComposeInput, colour: Colour): Record<string, unknown> {
  const { svc, labels, c } = webLike(input, 'web', colour);
  const { environment, secrets } = appEnvAndSecrets(input.app);
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
  const volumes = volumeList(c.volumes);
  // Asset bridging: this release's merged assets directory, prepared on the host before the colour
  // starts; read-only, since releases share its files (hard links).
  if (c.asset_path) volumes.push(`${assetsVolumeDir(input.app.name, input.release)}:${c.asset_path}:ro`);
  if (volumes.length) svc.volumes = volumes;
  Object.assign(svc, resources(input));
  svc.logging = LOGGING;
  svc.networks = { [NETWORK]: { aliases: [webAlias(input.app.name, colour)] }, default: {} };
  return svc;
}

function workerService(input: ComposeInput, command: string): Record<string, unknown> {
  const { svc, labels, c } = webLike(input, 'worker');
  const { environment, secrets } = appEnvAndSecrets(input.app);
  svc.entrypoint = WRAPPER_ENTRYPOINT;
  svc.command = composeLiteral(command);
  svc.environment = environment;
  if (secrets.length) svc.secrets = secrets;
  svc.labels = labels;
  svc.restart = c.restart;
  svc.stop_grace_period = `${c.deploy.stop_timeout_seconds}s`;
  if (Object.keys(c.volumes).length) svc.volumes = volumeList(c.volumes);
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

function accessoryLabels(app: string, role: string): Env {
  return sortedRecord({ [LABEL.managed]: 'true', [LABEL.app]: app, [LABEL.role]: role });
}

function accessoryService(app: string, name: string, acc: AccessoryConfig): Record<string, unknown> {
  const svc: Record<string, unknown> = { image: acc.image };
  if (acc.command) svc.command = composeLiteral(acc.command);
  const env = accessoryEnv(acc);
  if (Object.keys(env).length) svc.environment = env;
  if (acc.secrets.length) svc.secrets = [...acc.secrets].sort();
  svc.labels = accessoryLabels(app, `accessory:${name}`);
  if (acc.port) svc.ports = [quoted(acc.port)];
  if (Object.keys(acc.volumes).length) svc.volumes = volumeList(acc.volumes);
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
  svc.labels = accessoryLabels(app, `backup:${name}`);
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
    labels: sortedRecord({ ...accessoryLabels(app.name, 'litestream'), [LITESTREAM_CONFIG_LABEL]: input.litestreamHash ?? '' }),
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
  const { app } = input;
  const c = app.config;
  const services: Record<string, unknown> = {};
  for (const colour of COLOURS) services[webService(colour)] = webService_(input, colour);
  for (const w of Object.keys(c.workers).sort()) services[`worker-${w}`] = workerService(input, c.workers[w]!.command);
  if (c.litestream) services[LITESTREAM_SERVICE] = litestreamService(input);
  const secrets = new Set<string>(appEnvAndSecrets(app).secrets);
  if (c.litestream) [c.litestream.replica.access_key_id_secret, c.litestream.replica.secret_access_key_secret].forEach((s) => secrets.add(s));
  for (const name of Object.keys(c.accessories).sort()) {
    const acc = c.accessories[name]!;
    services[name] = accessoryService(app.name, name, acc);
    if (acc.backup) services[backupService(name)] = backupServiceDef(app.name, name, acc);
    for (const s of acc.secrets) secrets.add(s);
  }

  const volumeNames = new Set<string>(Object.keys(c.volumes));
  for (const acc of Object.values(c.accessories)) for (const v of Object.keys(acc.volumes)) volumeNames.add(v);

  const doc: Record<string, unknown> = { name: appProject(app.name), services };
  if (volumeNames.size) doc.volumes = Object.fromEntries([...volumeNames].sort().map((v) => [v, {}]));
  if (secrets.size) doc.secrets = Object.fromEntries([...secrets].sort().map((s) => [s, { file: appSecretFile(app.name, s) }]));
  doc.networks = { [NETWORK]: { external: true }, default: {} };

  const header = generatedHeader(
    app.file,
    [
      `Compose project ${appProject(app.name)}, release ${input.release}.`,
      ` Secret values are never written here nor put in container env: they are files under ${appSecretFile(app.name, '')}`,
      ` (compose secrets), exported by the /bin/sh entrypoint wrapper at start. By hand on the server:`,
      ` docker compose --env-file ${appSecretsEnv(app.name)} -f compose.yml … (it holds the image's entrypoint/command).`,
    ].join('\n'),
  );
  return toYaml(doc, header);
}
