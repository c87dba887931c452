// Sandbox status: observed (sshd, contexts, containers, images) → status.json, a table, or --json.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  FLEET_NETWORK, MIRROR, PEBBLE, REGISTRY, S3, SANDBOX_CA_DIR, SANDBOX_HOSTS, SANDBOX_SERVICE_LABEL, SANDBOX_NETWORK, SANDBOX_SSH_KEY,
  SANDBOX_STATE_DIR, SANDBOX_STATUS_FILE, hostSpec,
} from './config.ts';
import { contextWorks, machineHasDocker, machineRunning, sshWorks } from './hosts.ts';
import { discoverImages } from './images.ts';
import { run } from './proc.ts';
import {
  PEBBLE_INTERMEDIATE, PEBBLE_MINICA, PEBBLE_ROOT, REGISTRY_CREDENTIALS, S3_CREDENTIALS, exportPebbleCas, serviceSpecs,
} from './services.ts';

export interface SandboxHostStatus {
  name: string;
  context: string;
  sshTarget: string;
  sshHost: string;
  sshPort: number;
  sshUser: string;
  sshKey: string;
  /** The machine container on this machine's engine, and its image (bare hosts start without Docker). */
  container: string;
  image: string;
  /** Addresses at which the host's published ports (Traefik 80/443) answer: from this machine (loopback), and on the fleet network. */
  addresses: { machine: string; network: string };
  running: boolean;
  /** sshd answers (a key login over the published port). */
  sshd: boolean;
  contextOk: boolean;
  /** The host's own engine (`docker info`), absent while Docker is not installed. */
  docker?: { id: string; serverVersion: string; compose?: string };
}

export interface SandboxStatus {
  version: 1;
  updatedAt: string;
  stateDir: string;
  engine: { up: boolean; id?: string; serverVersion?: string; clientVersion?: string; compose?: string };
  hosts: SandboxHostStatus[];
  network: { name: string; subnet: string; gateway: string; present: boolean };
  fleetNetwork: { name: string; subnet: string; gateway: string; present: boolean };
  /** The hosts' Docker Hub mirror (daemon.json registry-mirrors). */
  mirror: { up: boolean; address: string; networkUrl: string };
  ca: { dir: string; pebbleRoot: string; pebbleIntermediate: string; pebbleMinica: string; bundle: string };
  pebble: {
    up: boolean;
    /** ACME directory for containers on network `berth` (Traefik's caServer). */
    directoryUrl: string;
    /** ACME directory from the machine. */
    hostDirectoryUrl: string;
    managementUrl: string;
    challtestsrvManagementUrl: string;
    /** Mount this file into Traefik and point LEGO_CA_CERTIFICATES at it to trust the directory. */
    directoryCa: string;
  };
  registry: { up: boolean; address: string; credentialsFile: string; username: string };
  s3: {
    up: boolean;
    endpoint: string;
    networkEndpoint: string;
    bucket: string;
    region: string;
    credentialsFile: string;
  };
  containers: { name: string; running: boolean }[];
  images: { tag: string; present: boolean }[];
}

async function engineInfo(): Promise<SandboxStatus['engine']> {
  const r = await run(['docker', 'version', '--format', '{{.Client.Version}} {{.Server.Version}}'], { allowFail: true, timeoutMs: 10_000 });
  if (r.code !== 0) return { up: false };
  const [clientVersion, serverVersion] = r.stdout.trim().split(' ');
  const c = await run(['docker', 'compose', 'version', '--short'], { allowFail: true });
  const id = (await run(['docker', 'info', '--format', '{{.ID}}'], { allowFail: true })).stdout.trim();
  return { up: true, id: id || undefined, clientVersion, serverVersion, compose: c.stdout.trim() || undefined };
}

/** Look at the world and describe the sandbox (refreshes Pebble's issuing roots when it runs). */
export async function observeStatus(): Promise<SandboxStatus> {
  const engine = await engineInfo();
  const hosts: SandboxHostStatus[] = [];
  for (const name of SANDBOX_HOSTS) {
    const h = hostSpec(name);
    const running = engine.up && (await machineRunning(h));
    const sshd = running && (await sshWorks(h));
    let docker: SandboxHostStatus['docker'];
    let contextOk = false;
    if (sshd && (await machineHasDocker(h))) {
      contextOk = await contextWorks(h);
      const info = await run(['docker', '--context', h.context, 'info', '--format', '{{.ID}} {{.ServerVersion}}'], { allowFail: true, timeoutMs: 30_000 });
      const cv = await run(['ssh', `${h.sshUser}@${h.sshHost}`, 'docker compose version --short'], { allowFail: true, timeoutMs: 20_000 });
      const [id = '', serverVersion = ''] = info.stdout.trim().split(' ');
      if (info.code === 0) docker = { id, serverVersion, compose: cv.stdout.trim() || undefined };
    }
    hosts.push({
      name: h.name,
      context: h.context,
      sshTarget: h.sshTarget,
      sshHost: h.sshHost,
      sshPort: h.sshPort,
      sshUser: h.sshUser,
      sshKey: SANDBOX_SSH_KEY,
      container: h.container,
      image: h.image,
      addresses: { machine: h.edgeAddress, network: h.address },
      running,
      sshd,
      contextOk,
      docker,
    });
  }
  const containers: SandboxStatus['containers'] = [];
  let networkPresent = false;
  let fleetPresent = false;
  const tags: string[] = [];
  const images: SandboxStatus['images'] = [];
  if (engine.up) {
    const ps = await run(['docker', 'ps', '-a', '--filter', `label=${SANDBOX_SERVICE_LABEL}`, '--format', '{{.Names}} {{.State}}'], { allowFail: true });
    const states = new Map(ps.stdout.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
    for (const s of serviceSpecs()) containers.push({ name: s.name, running: states.get(s.name) === 'running' });
    networkPresent = (await run(['docker', 'network', 'inspect', SANDBOX_NETWORK.name], { allowFail: true })).code === 0;
    fleetPresent = (await run(['docker', 'network', 'inspect', FLEET_NETWORK.name], { allowFail: true })).code === 0;
    for (const d of await discoverImages()) tags.push(...d.tags);
    const ls = await run(['docker', 'image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], { allowFail: true });
    const have = new Set(ls.stdout.split('\n').filter(Boolean));
    for (const t of ls.stdout.split('\n')) if (t.startsWith('berth/') && !tags.includes(t)) tags.push(t);
    for (const t of [...new Set(tags)].sort()) images.push({ tag: t, present: have.has(t) });
  }
  const running = (n: string) => containers.find((c) => c.name === n)?.running ?? false;
  if (running(PEBBLE.container)) await exportPebbleCas().catch(() => undefined);
  return {
    version: 1,
    updatedAt: new Date().toISOString(),
    stateDir: SANDBOX_STATE_DIR,
    engine,
    hosts,
    network: { ...SANDBOX_NETWORK, present: networkPresent },
    fleetNetwork: { ...FLEET_NETWORK, present: fleetPresent },
    mirror: { up: running(MIRROR.container), address: MIRROR.address, networkUrl: MIRROR.networkUrl },
    ca: {
      dir: SANDBOX_CA_DIR,
      pebbleRoot: PEBBLE_ROOT,
      pebbleIntermediate: PEBBLE_INTERMEDIATE,
      pebbleMinica: PEBBLE_MINICA,
      bundle: `${SANDBOX_CA_DIR}/bundle.pem`,
    },
    pebble: {
      up: running(PEBBLE.container) && running(PEBBLE.challContainer),
      directoryUrl: PEBBLE.directoryUrl,
      hostDirectoryUrl: PEBBLE.hostDirectoryUrl,
      managementUrl: PEBBLE.managementUrl,
      challtestsrvManagementUrl: PEBBLE.challManagementUrl,
      directoryCa: PEBBLE_MINICA,
    },
    registry: { up: running(REGISTRY.container), address: REGISTRY.address, credentialsFile: REGISTRY_CREDENTIALS, username: REGISTRY.username },
    s3: {
      up: running(S3.container),
      endpoint: S3.hostEndpoint,
      networkEndpoint: S3.networkEndpoint,
      bucket: S3.bucket,
      region: S3.region,
      credentialsFile: S3_CREDENTIALS,
    },
    containers,
    images,
  };
}

/** Observe and write status.json (atomically) plus ca/bundle.pem; returns the status. */
export async function writeStatus(): Promise<SandboxStatus> {
  const st = await observeStatus();
  await mkdir(dirname(SANDBOX_STATUS_FILE), { recursive: true });
  const pems = [PEBBLE_ROOT, PEBBLE_INTERMEDIATE, PEBBLE_MINICA].filter((f) => existsSync(f));
  if (pems.length) {
    const bundle = (await Promise.all(pems.map((f) => readFile(f, 'utf8')))).join('\n');
    await writeFile(st.ca.bundle, bundle, { mode: 0o644 });
  }
  const tmp = `${SANDBOX_STATUS_FILE}.tmp`;
  await writeFile(tmp, `${JSON.stringify(st, null, 2)}\n`);
  await rename(tmp, SANDBOX_STATUS_FILE);
  return st;
}

/** Read the status.json written by sandbox:up / sandbox:status (no probing). */
export async function readSandboxStatus(file = SANDBOX_STATUS_FILE): Promise<SandboxStatus> {
  if (!existsSync(file)) throw new Error(`${file} not found: run npm run sandbox:up`);
  return JSON.parse(await readFile(file, 'utf8')) as SandboxStatus;
}

const mark = (b: boolean) => (b ? 'up' : 'DOWN');

export function formatStatus(st: SandboxStatus): string {
  const rows: [string, string, string][] = [];
  rows.push(['engine', mark(st.engine.up), st.engine.up ? `id ${st.engine.id}, server ${st.engine.serverVersion}, client ${st.engine.clientVersion}, compose ${st.engine.compose}` : '']);
  for (const h of st.hosts) {
    const eng = h.docker ? `docker ${h.docker.serverVersion} id ${h.docker.id}, compose ${h.docker.compose ?? '?'}` : 'no Docker (bare: npm run setup)';
    rows.push([`host ${h.name}`, mark(h.running && h.sshd && (h.contextOk || !h.docker)), `${h.container} ${h.addresses.network}, ssh ${h.sshTarget}, edge ${h.addresses.machine}:80/443, context ${h.context}; ${eng}`]);
  }
  rows.push([`network ${st.network.name}`, mark(st.network.present), `${st.network.subnet} gw ${st.network.gateway}`]);
  rows.push(['pebble (ACME)', mark(st.pebble.up), `${st.pebble.directoryUrl} (machine: ${st.pebble.hostDirectoryUrl})`]);
  rows.push(['CA certificates', existsSync(st.ca.pebbleRoot) ? 'ok' : 'missing', `${st.ca.dir}/ (root, intermediate, minica, bundle.pem)`]);
  rows.push([`network ${st.fleetNetwork.name}`, mark(st.fleetNetwork.present), `${st.fleetNetwork.subnet} (the hosts)`]);
  rows.push(['mirror', mark(st.mirror.up), `${st.mirror.address} (hosts: ${st.mirror.networkUrl} in daemon.json)`]);
  rows.push(['registry', mark(st.registry.up), `${st.registry.address} (credentials ${st.registry.credentialsFile})`]);
  rows.push(['s3', mark(st.s3.up), `${st.s3.endpoint} bucket ${st.s3.bucket} (network ${st.s3.networkEndpoint}; credentials ${st.s3.credentialsFile})`]);
  const missing = st.images.filter((i) => !i.present).map((i) => i.tag);
  rows.push(['images', missing.length ? `${missing.length} missing` : 'ok', st.images.filter((i) => i.present).map((i) => i.tag).join(' ')]);
  if (missing.length) rows.push(['', '', `missing: ${missing.join(' ')}`]);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`).join('\n');
}
