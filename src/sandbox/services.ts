// Sandbox services on the machine's engine: network `berth`, Pebble + challtestsrv (ACME), S3, registry.
// Each container carries a hash of its spec; an unchanged, running container is left alone.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CFMOCK, FLEET_DNS, FLEET_NETWORK, MIRROR, PEBBLE, PEBBLE_DNS, REGISTRY, S3, SANDBOX_CA_DIR, SANDBOX_HOSTS, SANDBOX_LABEL, SANDBOX_SERVICE_LABEL, SANDBOX_NETWORK, SANDBOX_STATE_DIR, hostSpec,
} from './config.ts';
import { sandboxRequest, waitFor } from './http.ts';
import { run, step } from './proc.ts';
import { EDGE_ACME_DIR, EDGE_PROJECT, TRAEFIK_SERVICE } from '../names.ts';
import { machineRunning } from './hosts.ts';

export const REGISTRY_DIR = join(SANDBOX_STATE_DIR, 'registry');
export const REGISTRY_CREDENTIALS = join(REGISTRY_DIR, 'credentials.json');
export const S3_DIR = join(SANDBOX_STATE_DIR, 's3');
export const S3_CREDENTIALS = join(S3_DIR, 'credentials.json');
export const PEBBLE_MINICA = join(SANDBOX_CA_DIR, 'pebble-minica.pem');
export const PEBBLE_ROOT = join(SANDBOX_CA_DIR, 'pebble-root.pem');
export const PEBBLE_INTERMEDIATE = join(SANDBOX_CA_DIR, 'pebble-intermediate.pem');

export interface ContainerSpec {
  name: string;
  image: string;
  aliases: string[];
  ports: string[];
  volumes: string[];
  env: Record<string, string>;
  command: string[];
  /** Aliases on the fleet network (the machines reach the service by these names). */
  fleetAliases: string[];
  /** Run on the fleet network at this address instead of on `berth` (the fleet's DNS). */
  fleetIp?: string;
}

export function containerRunArgv(s: ContainerSpec, specHash: string): string[] {
  return [
    'docker', 'run', '-d', '--name', s.name, '--restart', 'unless-stopped',
    '--label', `${SANDBOX_SERVICE_LABEL}=${s.name}`, '--label', `berth.sandbox.spec=${specHash}`,
    ...(s.fleetIp ? ['--network', FLEET_NETWORK.name, '--ip', s.fleetIp] : ['--network', SANDBOX_NETWORK.name]),
    ...s.aliases.flatMap((a) => ['--network-alias', a]),
    ...s.ports.flatMap((p) => ['-p', p]),
    ...s.volumes.flatMap((v) => ['-v', v]),
    ...Object.entries(s.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    s.image,
    ...s.command,
  ];
}

async function imageId(image: string): Promise<string> {
  return (await run(['docker', 'image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim();
}

/** Start (or replace) a container unless one with the same spec and image is already running. */
export async function ensureContainer(s: ContainerSpec): Promise<'kept' | 'started'> {
  const hash = createHash('sha256')
    // The full argv (not just the spec) so a change in how we run containers also replaces them.
    .update(JSON.stringify(containerRunArgv(s, '')))
    .update(await imageId(s.image))
    .digest('hex')
    .slice(0, 16);
  const cur = await run(
    ['docker', 'container', 'inspect', '--format', '{{.State.Running}} {{index .Config.Labels "berth.sandbox.spec"}}', s.name],
    { allowFail: true },
  );
  if (cur.code === 0 && cur.stdout.trim() === `true ${hash}`) return 'kept';
  if (cur.code === 0) await run(['docker', 'rm', '-f', s.name]);
  await run(containerRunArgv(s, hash));
  return 'started';
}

export async function ensureNetwork(): Promise<void> {
  const r = await run(['docker', 'network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', SANDBOX_NETWORK.name], {
    allowFail: true,
  });
  if (r.code === 0) {
    const got = r.stdout.trim();
    if (got !== `${SANDBOX_NETWORK.subnet} ${SANDBOX_NETWORK.gateway}`) {
      console.warn(
        `[sandbox]   warning: network ${SANDBOX_NETWORK.name} exists with "${got}", expected ${SANDBOX_NETWORK.subnet} gw ${SANDBOX_NETWORK.gateway}; ` +
          'ACME validation needs the gateway; run sandbox:down --network to recreate it',
      );
    }
    return;
  }
  await run([
    'docker', 'network', 'create', '--driver', 'bridge',
    '--subnet', SANDBOX_NETWORK.subnet, '--gateway', SANDBOX_NETWORK.gateway,
    '--label', SANDBOX_LABEL, SANDBOX_NETWORK.name,
  ]);
}

/** What challtestsrv answers for a name without its own record: h1's address on the fleet network. */
export const DEFAULT_ACME_ADDRESS = hostSpec(SANDBOX_HOSTS[0] ?? 'h1').address;

/** Join the fleet network under the service's aliases (kept outside the spec: joining restarts nothing). */
export async function ensureFleetAttachment(s: ContainerSpec): Promise<void> {
  if (s.fleetAliases.length === 0 || s.fleetIp) return;
  const r = await run(['docker', 'container', 'inspect', '--format', `{{with index .NetworkSettings.Networks "${FLEET_NETWORK.name}"}}yes{{end}}`, s.name]);
  if (r.stdout.trim() === 'yes') return;
  await run(['docker', 'network', 'connect', ...s.fleetAliases.flatMap((a) => ['--alias', a]), FLEET_NETWORK.name, s.name]);
}

/** The DNS-01 pair: cfmock (Cloudflare's API + the zone's DNS) and the Pebble that validates against it. */
export function dnsChallengeSpecs(): ContainerSpec[] {
  return [
    {
      name: CFMOCK.container,
      image: CFMOCK.image,
      aliases: ['cfmock'],
      ports: ['127.0.0.1:8056:80', `${CFMOCK.hostDnsServer}:53/udp`, `${CFMOCK.hostDnsServer}:53/tcp`],
      volumes: [],
      // Names without a record resolve to h1 (its edge), like challtestsrv's answers.
      env: { ZONE: CFMOCK.zone, TOKEN: CFMOCK.token, DEFAULT_A: DEFAULT_ACME_ADDRESS },
      fleetAliases: ['cfmock'],
      command: ['serve'],
    },
    {
      name: PEBBLE_DNS.container,
      image: PEBBLE_DNS.image,
      aliases: ['pebble-dns'],
      ports: ['127.0.0.1:14001:14000', '127.0.0.1:15001:15000'],
      volumes: [],
      env: {},
      fleetAliases: ['pebble-dns'],
      command: ['pebble', '-config', '/etc/pebble/pebble-config.json', '-dnsserver', CFMOCK.dnsServer],
    },
  ];
}

/** Start the DNS-01 pair (images built first when missing or stale); used by sandbox:up and by the tests that need it. */
export async function ensureDnsChallengeServices(): Promise<void> {
  const { buildAllImages } = await import('./images.ts');
  await buildAllImages({ only: ['cfmock', 'pebble-dns'] });
  for (const s of dnsChallengeSpecs()) {
    await ensureContainer(s);
    await ensureFleetAttachment(s);
  }
  const minica = (await run(['docker', 'exec', PEBBLE_DNS.container, 'cat', '/etc/pebble/ca.pem'])).stdout;
  await waitFor('pebble-dns directory', async () => (await sandboxRequest(PEBBLE_DNS.hostDirectoryUrl, { ca: minica, timeoutMs: 3000 })).status === 200, {
    timeoutMs: 30_000,
  });
  await waitFor('cfmock', async () => (await sandboxRequest(`${CFMOCK.managementUrl}/up`, { timeoutMs: 3000 })).status === 200, { timeoutMs: 30_000 });
}

export function serviceSpecs(): ContainerSpec[] {
  return [
    {
      name: FLEET_DNS.container,
      image: FLEET_DNS.image,
      aliases: [],
      ports: [],
      volumes: [],
      env: {},
      fleetAliases: [],
      fleetIp: FLEET_DNS.address,
      command: [],
    },
    {
      name: PEBBLE.challContainer,
      image: PEBBLE.image,
      aliases: ['challtestsrv'],
      ports: ['127.0.0.1:8055:8055'],
      volumes: [],
      env: {},
      // Every name resolves to h1's fleet address (its edge's 80/443); a test routes a domain to another host with add-a.
      fleetAliases: ['challtestsrv'],
      command: ['pebble-challtestsrv', '-defaultIPv4', DEFAULT_ACME_ADDRESS, '-defaultIPv6', '', '-management', ':8055',
        '-dns01', ':8053', '-http01', '', '-https01', '', '-tlsalpn01', ''],
    },
    {
      name: PEBBLE.container,
      image: PEBBLE.image,
      aliases: ['pebble'],
      ports: ['127.0.0.1:14000:14000', '127.0.0.1:15000:15000'],
      volumes: [],
      env: {},
      fleetAliases: ['pebble'],
      command: ['pebble', '-config', '/etc/pebble/pebble-config.json', '-dnsserver', 'challtestsrv:8053'],
    },
    {
      name: S3.container,
      image: S3.image,
      aliases: ['s3'],
      ports: ['127.0.0.1:9000:9000'],
      volumes: ['berth-sandbox-s3-data:/data', 'berth-sandbox-s3-meta:/var/lib/versitygw/meta'],
      env: { ROOT_ACCESS_KEY: S3.accessKeyId, ROOT_SECRET_KEY: S3.secretAccessKey, S3_BUCKETS: S3.bucket },
      fleetAliases: ['s3'],
      command: [],
    },
    {
      name: REGISTRY.container,
      image: REGISTRY.image,
      aliases: ['registry'],
      ports: [`${REGISTRY.address}:5000`],
      volumes: ['berth-sandbox-registry:/var/lib/registry', `${join(REGISTRY_DIR, 'htpasswd')}:/auth/htpasswd:ro`],
      env: {},
      fleetAliases: ['registry'],
      command: [],
    },
    ...dnsChallengeSpecs(),
    {
      name: MIRROR.container,
      image: MIRROR.image,
      aliases: ['mirror'],
      ports: [`${MIRROR.address}:5000`],
      volumes: ['berth-sandbox-mirror:/var/lib/registry'],
      env: {},
      fleetAliases: ['mirror'],
      command: ['serve', '/etc/docker/registry/mirror.yml'],
    },
  ];
}

async function writeIfChanged(file: string, text: string, mode = 0o600): Promise<boolean> {
  const cur = existsSync(file) ? await readFile(file, 'utf8') : null;
  if (cur !== text) await writeFile(file, text, { mode });
  return cur !== text;
}

async function ensureCredentialFiles(): Promise<void> {
  await mkdir(REGISTRY_DIR, { recursive: true, mode: 0o700 });
  await mkdir(S3_DIR, { recursive: true, mode: 0o700 });
  const creds = { registry: REGISTRY.address, username: REGISTRY.username, password: REGISTRY.password };
  await writeIfChanged(REGISTRY_CREDENTIALS, `${JSON.stringify(creds, null, 2)}\n`);
  const htpasswd = join(REGISTRY_DIR, 'htpasswd');
  // bcrypt salts differ per run: only regenerate when the user/password changed (checked with htpasswd -v).
  const valid = existsSync(htpasswd) && (await run(['htpasswd', '-vbB', htpasswd, REGISTRY.username, REGISTRY.password], { allowFail: true })).code === 0;
  if (!valid) {
    const r = await run(['htpasswd', '-nbB', REGISTRY.username, REGISTRY.password]);
    await writeFile(htpasswd, r.stdout.trim() + '\n', { mode: 0o644 });
  }
  const s3 = {
    endpoint: S3.hostEndpoint,
    networkEndpoint: S3.networkEndpoint,
    bucket: S3.bucket,
    region: S3.region,
    accessKeyId: S3.accessKeyId,
    secretAccessKey: S3.secretAccessKey,
    forcePathStyle: true,
  };
  await writeIfChanged(S3_CREDENTIALS, `${JSON.stringify(s3, null, 2)}\n`);
}

/** Pebble's directory TLS CA (stable per image) and its issuing root/intermediate (new on every pebble start). */
export async function exportPebbleCas(): Promise<void> {
  await mkdir(SANDBOX_CA_DIR, { recursive: true });
  const minica = (await run(['docker', 'exec', PEBBLE.container, 'cat', '/etc/pebble/ca.pem'])).stdout;
  await writeIfChanged(PEBBLE_MINICA, minica, 0o644);
  const get = async (path: string) => {
    const r = await sandboxRequest(`${PEBBLE.managementUrl}${path}`, { ca: minica, timeoutMs: 5000 });
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
    return r.body;
  };
  const rootChanged = await writeIfChanged(PEBBLE_ROOT, await get('/roots/0'), 0o644);
  await writeIfChanged(PEBBLE_INTERMEDIATE, await get('/intermediates/0'), 0o644);
  if (rootChanged) await forgetCertificatesOfOldRoot();
}

/**
 * Pebble makes a new root at every start (a restarted engine restarts it): certificates an edge
 * obtained from the previous one no longer verify against the exported roots. Each running host's
 * edge drops its ACME storage and Traefik restarts, so it orders new certificates from the running CA.
 */
async function forgetCertificatesOfOldRoot(): Promise<void> {
  for (const name of SANDBOX_HOSTS) {
    const h = hostSpec(name);
    if (!(await machineRunning(h))) continue;
    const script = [
      `rm -f ${EDGE_ACME_DIR}/acme.json`,
      'command -v docker >/dev/null || exit 0',
      `ids=$(docker ps -q --filter label=com.docker.compose.project=${EDGE_PROJECT} --filter label=com.docker.compose.service=${TRAEFIK_SERVICE})`,
      '[ -z "$ids" ] || docker restart -t 5 $ids >/dev/null',
    ].join('; ');
    await run(['docker', 'exec', h.container, 'sh', '-c', script], { allowFail: true, timeoutMs: 60_000 });
  }
}

/** images: start only the services whose image is among these tags (a running one is left as it is). */
export async function ensureServices(opts: { images?: ReadonlySet<string> } = {}): Promise<void> {
  await step(`network ${SANDBOX_NETWORK.name} (${SANDBOX_NETWORK.subnet})`, ensureNetwork);
  await step('credentials (registry htpasswd, S3)', ensureCredentialFiles);
  for (const s of serviceSpecs().filter((x) => !opts.images || opts.images.has(x.image))) {
    await step(`container ${s.name}`, async () => {
      const r = await ensureContainer(s);
      if (r === 'started') console.log(`[sandbox]   started ${s.name}`);
      await ensureFleetAttachment(s);
    });
  }
  await step('services ready (pebble, registry, s3)', async () => {
    const minica = (await run(['docker', 'exec', PEBBLE.container, 'cat', '/etc/pebble/ca.pem'])).stdout;
    await waitFor('pebble directory', async () => (await sandboxRequest(PEBBLE.hostDirectoryUrl, { ca: minica, timeoutMs: 3000 })).status === 200, {
      timeoutMs: 30_000,
    });
    await waitFor('registry /v2/', async () => (await sandboxRequest(`http://${REGISTRY.address}/v2/`, { timeoutMs: 3000 })).status === 401, {
      timeoutMs: 30_000,
    });
    await waitFor('mirror /v2/', async () => (await sandboxRequest(`http://${MIRROR.address}/v2/`, { timeoutMs: 3000 })).status === 200, {
      timeoutMs: 30_000,
    });
    await waitFor('s3', async () => (await sandboxRequest(`${S3.hostEndpoint}/`, { timeoutMs: 3000 })).status > 0, { timeoutMs: 30_000 });
  });
  await step('export Pebble CA certificates', exportPebbleCas);
}

export async function stopServices(): Promise<string[]> {
  const names = serviceSpecs().map((s) => s.name);
  const r = await run(['docker', 'ps', '-aq', '--filter', `label=${SANDBOX_SERVICE_LABEL}`], { allowFail: true });
  const ids = r.stdout.split('\n').filter(Boolean);
  if (ids.length) await run(['docker', 'rm', '-f', ...ids]);
  return names;
}

/** challtestsrv's answer for names without a record (also its start flag; set again in case it was changed at runtime). */
export async function setAcmeDefault(address = DEFAULT_ACME_ADDRESS): Promise<void> {
  const r = await sandboxRequest(`${PEBBLE.challManagementUrl}/set-default-ipv4`, { method: 'POST', body: JSON.stringify({ ip: address }) });
  if (r.status !== 200) throw new Error(`challtestsrv set-default-ipv4: HTTP ${r.status}`);
}
