// stack.yml of one cluster app release (PURE): the same services as compose.yml (render-compose.ts
// is the one source of env, entrypoint wrapper, health checks, labels, volumes), turned into a
// Docker Swarm stack that `docker stack deploy -c stack.yml berth-<app>` runs:
//   - web-blue / web-green: `replicas` tasks each, endpoint_mode dnsrr (no IPVS needed), on the app's
//     overlay and the edge's; deploy.labels make Traefik's swarm provider define one load-balancer
//     service per colour (`<app>-<colour>@swarm`: the tasks' addresses, running = healthy) that the
//     file-provider router Berth switches points at;
//   - workers with their own replicas; Litestream, accessories and dump loops as one task each,
//     pinned to the app's node (their volumes are local to it);
//   - secrets are Swarm secrets (external: Berth creates them from stdin, versioned by a digest of
//     the values, since a Swarm secret is immutable); litestream.yml is a Swarm config.
// stack.release.yml runs the release command once as a replicated job in its own stack.
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import type { ClusterConfig } from '../config/schema.ts';
import { placementOf } from '../config/cluster-rules.ts';
import {
  appStack,
  appStackNetwork,
  assetsVolumeDir,
  backupService,
  CLUSTER_NETWORK,
  CLUSTER_TRANSPORT,
  colourProbeHost,
  COLOURS,
  type Colour,
  ENTRYPOINT,
  LABEL,
  LITESTREAM_CONFIG_MOUNT,
  LITESTREAM_SERVICE,
  litestreamConfigPath,
  RELEASE_JOB_SERVICE,
  swarmTraefikService,
  webService,
} from '../names.ts';
import { placementConstraints } from './cluster-placement.ts';
import { type ComposeInput, renderCompose } from './render-compose.ts';

const SECRETS_LABEL = LABEL.secrets;
import { IMAGE_CMD_VAR, IMAGE_ENTRYPOINT_VAR } from './secret-env.ts';
import { composeLiteral, generatedHeader, quoted, sortedRecord, toYaml } from './yaml.ts';
import { durationSeconds } from '../config/dns-provider.ts';

export interface StackInput extends ComposeInput {
  cluster: { name: string; config: ClusterConfig };
  /**
   * Digest of the secret values: Swarm secrets are immutable, so each set of values gets its own
   * names. Absent in compose/ (plan knows no values): `${BERTH_SECRETS_VERSION}` is left to fill in.
   */
  secretsVersion?: string;
  /** The image's own entrypoint and command (shell-quoted), written in; else left to interpolation. */
  imageExec?: Record<string, string>;
  /** The release id (deploys only): a label on the app's tasks, so the health gate counts this release's tasks. */
  releaseId?: string;
}

/** Label on every app task of a deployed release: its full release id. */
export const RELEASE_ID_LABEL = 'berth.release-id';

export const STACK_FILE = 'stack.yml';
export const RELEASE_STACK_FILE = 'stack.release.yml';
export const SECRETS_VERSION_VAR = 'BERTH_SECRETS_VERSION';

type Svc = Record<string, unknown>;
type Doc = { services: Record<string, Svc>; secrets?: Record<string, { file?: string }>; volumes?: Record<string, unknown> };

/**
 * A Swarm secret's name: `berth-<app>-<NAME>-<version>` (at most 64 characters: app and name
 * hashed when longer). `version` may be the ${SECRETS_VERSION_VAR} placeholder of compose/.
 */
export function swarmSecretName(app: string, secret: string, version: string): string {
  const plain = `${appStack(app)}-${secret}-`;
  const base = plain.length + 12 <= 64 ? plain : `${appStack(app).slice(0, 24)}-${createHash('sha256').update(`${app}/${secret}`).digest('hex').slice(0, 16)}-`;
  return `${base}${version}`;
}

/** The Swarm config holding litestream.yml: named by its content hash (a config is immutable too). */
export const litestreamConfigName = (app: string, hash: string) => `${appStack(app)}-litestream-${hash.slice(0, 12)}`;

const secretsVersionRef = (v?: string) => v ?? `\${${SECRETS_VERSION_VAR}:?set it to the secrets version of a release: its stack.yml on the first manager names them}`;

/** Compose's secret list (names, or {source,target}) as Swarm secret references. */
function swarmSecrets(list: unknown): { source: string; target: string }[] {
  return (list as (string | { source: string; target?: string })[]).map((s) => (typeof s === 'string' ? { source: s, target: s } : { source: s.source, target: s.target ?? s.source }));
}

/** compose's mem_limit / cpus → deploy.resources.limits. */
function limits(svc: Svc): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  if (svc.mem_limit !== undefined) out.memory = svc.mem_limit;
  if (svc.cpus !== undefined) out.cpus = quoted(String(svc.cpus));
  delete svc.mem_limit;
  delete svc.cpus;
  return Object.keys(out).length ? { limits: out } : undefined;
}

/** The common Swarm shape of a compose service: no restart key (deploy.restart_policy), placement, limits. */
function swarmService(svc: Svc, deploy: Record<string, unknown>): Svc {
  const out: Svc = { ...svc };
  delete out.restart;
  delete out.ports;
  delete out.depends_on;
  if (out.secrets) out.secrets = swarmSecrets(out.secrets);
  const resources = limits(out);
  out.deploy = { ...deploy, ...(resources ? { resources } : {}) };
  return out;
}

/** Traefik's swarm provider reads these: one load-balancer service per colour, plus a probe route on the API port (host-local). */
function traefikLabels(input: StackInput, colour: Colour): Record<string, string> {
  const c = input.app.config;
  const svc = swarmTraefikService(input.app.name, colour);
  const lb = `traefik.http.services.${svc}.loadbalancer`;
  const probe = `traefik.http.routers.${svc}-probe`;
  const labels: Record<string, string> = {
    'traefik.enable': 'true',
    [`${lb}.server.port`]: String(c.port),
    // A dead node's tasks stay listed until Swarm marks it down: fail the dial fast and check actively.
    [`${lb}.serversTransport`]: `${CLUSTER_TRANSPORT}@file`,
    [`${probe}.rule`]: `Host(\`${colourProbeHost(input.app.name, colour)}\`)`,
    [`${probe}.entrypoints`]: ENTRYPOINT.traefik,
    [`${probe}.service`]: svc,
  };
  if (!c.healthcheck.command) {
    labels[`${lb}.healthcheck.path`] = c.healthcheck.path;
    labels[`${lb}.healthcheck.interval`] = '1s';
    labels[`${lb}.healthcheck.timeout`] = c.healthcheck.timeout;
  }
  return labels;
}

const restartPolicy = { condition: 'any', delay: '2s' };

function webDeploy(input: StackInput, colour: Colour, constraints: string[], svc: Svc): Record<string, unknown> {
  const c = input.app.config;
  const serviceLabels = sortedRecord({
    ...(svc.labels as Record<string, string>),
    ...traefikLabels(input, colour),
  });
  return {
    replicas: c.replicas ?? 1,
    endpoint_mode: 'dnsrr',
    placement: { constraints },
    labels: serviceLabels,
    restart_policy: restartPolicy,
    // Berth never updates a live colour in place (it deploys the idle one and switches); should a
    // colour be updated, new tasks start before old ones stop.
    update_config: { order: 'start-first', parallelism: 1, failure_action: 'pause' },
  };
}

/** Replace compose's `${VAR:-}` for the image's entrypoint/command with the values, when known. */
function fillImageExec(env: Record<string, string>, exec?: Record<string, string>): Record<string, string> {
  if (!exec) return env;
  const out = { ...env };
  for (const k of [IMAGE_ENTRYPOINT_VAR, IMAGE_CMD_VAR]) if (k in out) out[k] = composeLiteral(exec[k] ?? '');
  return out;
}

const withReleaseId = (labels: unknown, id?: string) => (id ? sortedRecord({ ...(labels as Record<string, string>), [RELEASE_ID_LABEL]: id }) : labels);

/**
 * Swarm stops a task whose health check fails (Docker alone only marks the container), so a boot
 * slower than start_period + retries on a busy node is killed and started again in a loop, and the
 * deploy fails. On a cluster the start period is at least the deploy's health timeout: checks that
 * fail while the app boots do not count, and the first one that passes still counts at once.
 */
export function clusterHealthcheck(hc: Record<string, unknown> | undefined, healthTimeoutSeconds: number): Record<string, unknown> | undefined {
  if (!hc || hc.disable) return hc;
  let current = 0;
  try {
    current = typeof hc.start_period === 'string' ? durationSeconds(hc.start_period) : 0;
  } catch {
    return hc; // a composite duration ("1m30s"): kept as written
  }
  return current >= healthTimeoutSeconds ? hc : { ...hc, start_period: `${healthTimeoutSeconds}s` };
}

/** The compose document of the release, parsed: the source every stack service is derived from. */
function composeDoc(input: StackInput): Doc {
  const doc = YAML.parse(renderCompose(input)) as Doc;
  // Swarm secrets are versioned by their own digest (secretsVersion), not mounted from a secret set:
  // the set label of per-host releases (secret-sets.ts) has no meaning here.
  for (const svc of Object.values(doc.services)) if (svc.labels) delete (svc.labels as Record<string, string>)[SECRETS_LABEL];
  return doc;
}

function appServices(input: StackInput, doc: Doc): { services: Record<string, Svc>; constraints: string[] } {
  const app = input.app;
  const c = app.config;
  const constraints = placementConstraints(placementOf(app), input.cluster.name);
  const services: Record<string, Svc> = {};
  const networks = { default: {}, [CLUSTER_NETWORK]: {} };
  const assets = assetsVolumeDir(app.name, '');
  for (const colour of COLOURS) {
    const svc = { ...doc.services[webService(colour)]! };
    svc.environment = fillImageExec(svc.environment as Record<string, string>, input.imageExec);
    svc.labels = withReleaseId(svc.labels, input.releaseId);
    if (Array.isArray(svc.volumes)) svc.volumes = (svc.volumes as string[]).filter((v) => !v.startsWith(assets));
    if (!(svc.volumes as unknown[] | undefined)?.length) delete svc.volumes;
    svc.networks = networks;
    svc.healthcheck = clusterHealthcheck(svc.healthcheck as Record<string, unknown> | undefined, c.deploy.health_timeout_seconds);
    services[webService(colour)] = swarmService(svc, webDeploy(input, colour, constraints, svc));
  }
  for (const [name, w] of Object.entries(c.workers).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const svc = { ...doc.services[`worker-${name}`]! };
    svc.environment = fillImageExec(svc.environment as Record<string, string>, input.imageExec);
    svc.labels = withReleaseId(svc.labels, input.releaseId);
    svc.networks = { default: {} };
    services[`worker-${name}`] = swarmService(svc, { replicas: w.replicas ?? 1, placement: { constraints }, labels: svc.labels, restart_policy: restartPolicy, update_config: { order: 'start-first', parallelism: 1 } });
  }
  return { services, constraints };
}

/** Services that hold data or replicate it: one task each, on the app's node. */
function supportServices(input: StackInput, doc: Doc, constraints: string[]): Record<string, Svc> {
  const app = input.app;
  const c = app.config;
  const services: Record<string, Svc> = {};
  const one = (svc: Svc) => swarmService(svc, { replicas: 1, placement: { constraints }, restart_policy: restartPolicy, labels: svc.labels });
  if (c.litestream) {
    const svc = { ...doc.services[LITESTREAM_SERVICE]! };
    // litestream.yml is a Swarm config (no host file on the node); the backup scripts find the
    // replicator by compose's labels, which the container carries on both engines.
    svc.volumes = (svc.volumes as string[]).filter((v) => !v.startsWith(`${litestreamConfigPath(app.name)}:`));
    svc.configs = [{ source: 'litestream', target: LITESTREAM_CONFIG_MOUNT }];
    svc.labels = sortedRecord({ ...(svc.labels as Record<string, string>), 'com.docker.compose.project': appStack(app.name), 'com.docker.compose.service': LITESTREAM_SERVICE });
    svc.networks = { default: {} };
    services[LITESTREAM_SERVICE] = one(svc);
  }
  for (const name of Object.keys(c.accessories).sort()) {
    const svc = { ...doc.services[name]! };
    svc.labels = sortedRecord({ ...(svc.labels as Record<string, string>), 'com.docker.compose.project': appStack(app.name), 'com.docker.compose.service': name });
    services[name] = one(svc);
    const b = doc.services[backupService(name)];
    if (b) services[backupService(name)] = one({ ...b, labels: sortedRecord({ ...(b.labels as Record<string, string>), 'com.docker.compose.project': appStack(app.name), 'com.docker.compose.service': backupService(name) }) });
  }
  return services;
}

function topLevel(input: StackInput, doc: Doc, opts: { externalAppNetwork: boolean }): Record<string, unknown> {
  const app = input.app;
  const out: Record<string, unknown> = {};
  if (doc.volumes) {
    // Named explicitly, so the release job's stack uses the app's volumes, not its own.
    out.volumes = Object.fromEntries(Object.keys(doc.volumes).map((v) => [v, { name: `${appStack(app.name)}_${v}` }]));
  }
  out.networks = opts.externalAppNetwork
    ? { default: { external: true, name: appStackNetwork(app.name) } }
    : { default: { driver: 'overlay', name: appStackNetwork(app.name) }, [CLUSTER_NETWORK]: { external: true } };
  if (doc.secrets) {
    const version = secretsVersionRef(input.secretsVersion);
    out.secrets = Object.fromEntries(Object.keys(doc.secrets).sort().map((s) => [s, { external: true, name: swarmSecretName(app.name, s, version) }]));
  }
  return out;
}

function header(input: StackInput, what: string): string {
  const app = input.app;
  return generatedHeader(
    app.file,
    [
      what,
      ` Secret values are Swarm secrets (created by Berth from stdin; files in /run/secrets, exported by the entrypoint wrapper),`,
      ` never in this file or in a service's env. By hand on a manager: the release's own copy under`,
      ` /var/lib/berth/apps/${app.name}/releases/<id>/ has every name filled in.`,
    ].join('\n'),
  );
}

export function renderStack(input: StackInput): string {
  const doc = composeDoc(input);
  const { services, constraints } = appServices(input, doc);
  Object.assign(services, supportServices(input, doc, constraints));
  const top = topLevel(input, doc, { externalAppNetwork: false });
  const out: Record<string, unknown> = { services };
  if (top.volumes) out.volumes = top.volumes;
  out.networks = top.networks;
  if (top.secrets) out.secrets = top.secrets;
  if (input.app.config.litestream) out.configs = { litestream: { file: 'litestream.yml', name: litestreamConfigName(input.app.name, input.litestreamHash ?? 'plan') } };
  return toYaml(out, header(input, `Swarm stack ${appStack(input.app.name)} (cluster ${input.cluster.name}), release ${input.release}.`));
}

/** The release command as a replicated job in its own stack (stack.release.yml), on the app's volumes and network. */
export function renderReleaseStack(input: StackInput): string | undefined {
  const cmd = input.app.config.release_command;
  if (!cmd) return undefined;
  const doc = composeDoc(input);
  const { constraints } = appServices(input, doc);
  const svc: Svc = { ...doc.services[webService('blue')]! };
  svc.environment = fillImageExec(svc.environment as Record<string, string>, input.imageExec);
  svc.command = composeLiteral(cmd);
  svc.labels = sortedRecord({ ...(svc.labels as Record<string, string>), [LABEL.role]: 'release' });
  delete (svc.labels as Record<string, string>)[LABEL.colour];
  delete svc.healthcheck;
  if (Array.isArray(svc.volumes)) svc.volumes = (svc.volumes as string[]).filter((v) => !v.startsWith(assetsVolumeDir(input.app.name, '')));
  if (!(svc.volumes as unknown[] | undefined)?.length) delete svc.volumes;
  svc.networks = { default: {} };
  const job = swarmService(svc, { mode: 'replicated-job', placement: { constraints }, restart_policy: { condition: 'none' }, labels: svc.labels });
  const top = topLevel(input, doc, { externalAppNetwork: true });
  const out: Record<string, unknown> = { services: { [RELEASE_JOB_SERVICE]: job } };
  if (top.volumes) out.volumes = top.volumes;
  out.networks = top.networks;
  if (top.secrets) out.secrets = top.secrets;
  return toYaml(out, header(input, `One-off stack running the release command of ${input.app.name} (${input.release}) once, as a job.`));
}
