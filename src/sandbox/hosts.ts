// Test hosts as machines: privileged system containers on this machine's engine, each with its own
// sshd, dockerd, iptables, filesystem and fleet-network address, reached by Berth only over SSH on
// a loopback address of this machine (127.0.1.N). One Docker context per host.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  FLEET_NETWORK, SANDBOX_CACHE_DIR, SANDBOX_LABEL, SANDBOX_MACHINE_LABEL, SANDBOX_SSH_KEY, SANDBOX_STATE_DIR, type SandboxHostSpec,
} from './config.ts';
import { ok, run, sleep } from './proc.ts';

const SSH_DIR = join(SANDBOX_STATE_DIR, 'ssh');
export const KNOWN_HOSTS = join(SSH_DIR, 'known_hosts');
const BLOCK_BEGIN = '# >>> berth-sandbox machines (managed by npm run sandbox:up) >>>';
const BLOCK_END = '# <<< berth-sandbox machines <<<';
/** The block of the retired loopback-sshd host (Host 127.0.0.1): removed when found. */
const LEGACY_BEGIN = '# >>> berth-sandbox (managed by npm run sandbox:up) >>>';
const LEGACY_END = '# <<< berth-sandbox <<<';
/** apt's download cache of each machine (one directory per host: apt locks it), kept here so `setup` on a reset host is fast. */
export const MACHINE_APT_CACHE = join(SANDBOX_CACHE_DIR, 'machine-apt');

export async function ensureClientKey(): Promise<void> {
  await mkdir(SSH_DIR, { recursive: true, mode: 0o700 });
  await chmod(SANDBOX_STATE_DIR, 0o755);
  await chmod(SSH_DIR, 0o700);
  if (!existsSync(SANDBOX_SSH_KEY)) {
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'berth-sandbox', '-f', SANDBOX_SSH_KEY]);
  }
}

/**
 * One pattern for every machine (127.0.1.N): checkouts that bring up different sets of hosts
 * (BERTH_SANDBOX_HOSTS) must not take each other's hosts out of the block.
 */
export function renderSshClientBlock(): string {
  return [
    BLOCK_BEGIN,
    'Host 127.0.1.*',
    '  User root',
    `  IdentityFile ${SANDBOX_SSH_KEY}`,
    '  IdentitiesOnly yes',
    '  StrictHostKeyChecking accept-new',
    `  UserKnownHostsFile ${KNOWN_HOSTS}`,
    '  ControlMaster auto',
    `  ControlPath ${SSH_DIR}/cm-%r@%h:%p`,
    '  ControlPersist 120',
    '  ServerAliveInterval 15',
    '  LogLevel ERROR',
    BLOCK_END,
    '',
  ].join('\n');
}

function cut(text: string, begin: string, end: string): string {
  const s = text.indexOf(begin);
  const e = text.indexOf(end);
  return s >= 0 && e > s ? text.slice(0, s) + text.slice(e + end.length).replace(/^\n/, '') : text;
}

/** Put our block at the top of ~/.ssh/config (Host blocks match first-wins), replacing an older one. */
export async function ensureSshClientConfig(): Promise<void> {
  const dir = join(homedir(), '.ssh');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'config');
  const cur = existsSync(file) ? await readFile(file, 'utf8') : '';
  let rest = cut(cur, BLOCK_BEGIN, BLOCK_END);
  if (process.env.BERTH_SANDBOX_KEEP_LEGACY !== '1') rest = cut(rest, LEGACY_BEGIN, LEGACY_END);
  const next = renderSshClientBlock() + rest;
  if (next !== cur) await writeFile(file, next, { mode: 0o600 });
}

export async function ensureFleetNetwork(): Promise<void> {
  const r = await run(['docker', 'network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', FLEET_NETWORK.name], { allowFail: true });
  if (r.code === 0) {
    if (r.stdout.trim() !== `${FLEET_NETWORK.subnet} ${FLEET_NETWORK.gateway}`) {
      throw new Error(`network ${FLEET_NETWORK.name} exists with "${r.stdout.trim()}", expected ${FLEET_NETWORK.subnet}: run npm run sandbox:down -- --network`);
    }
    return;
  }
  await run([
    'docker', 'network', 'create', '--driver', 'bridge', '--subnet', FLEET_NETWORK.subnet, '--gateway', FLEET_NETWORK.gateway,
    // Machines take fixed addresses from the bottom; anything else joining gets one from the top half.
    '--ip-range', '10.77.0.128/25', '--label', SANDBOX_LABEL, FLEET_NETWORK.name,
  ]);
}

/** `docker run` of a machine (pure): privileged, own volume for /var/lib/docker, loopback-only ports. */
export function machineRunArgv(h: SandboxHostSpec, specHash: string): string[] {
  return [
    'docker', 'run', '-d', '--name', h.container, '--hostname', h.name, '--privileged', '--init',
    '--restart', 'unless-stopped',
    '--label', `${SANDBOX_MACHINE_LABEL}=${h.name}`, '--label', `berth.sandbox.spec=${specHash}`,
    '--network', FLEET_NETWORK.name, '--ip', h.address,
    '-p', `${h.sshHost}:${h.sshPort}:22`, '-p', `${h.edgeAddress}:80:80`, '-p', `${h.edgeAddress}:443:443`,
    '-v', `${h.dockerVolume}:/var/lib/docker`,
    '-v', `${join(MACHINE_APT_CACHE, h.name)}:/var/cache/apt/archives`,
    // A reboot starts with an empty /run, as on a server.
    '--tmpfs', '/run:rw,exec,nosuid,size=256m',
    h.image,
  ];
}

async function imageId(image: string): Promise<string> {
  return (await run(['docker', 'image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim();
}

export async function machineSpecHash(h: SandboxHostSpec): Promise<string> {
  return createHash('sha256').update(JSON.stringify(machineRunArgv(h, ''))).update(await imageId(h.image)).digest('hex').slice(0, 16);
}

/** Forget a host's SSH host key (a new machine has a new one) and close our master connection. */
async function forgetHostKey(h: SandboxHostSpec): Promise<void> {
  await run(['ssh', '-O', 'exit', `${h.sshUser}@${h.sshHost}`], { allowFail: true, timeoutMs: 5000 });
  if (existsSync(KNOWN_HOSTS)) await run(['ssh-keygen', '-q', '-R', h.sshHost, '-f', KNOWN_HOSTS], { allowFail: true });
}

/** Create (or replace, when its spec or image changed) a machine; returns what happened. */
export async function ensureMachine(h: SandboxHostSpec, opts: { recreate?: boolean } = {}): Promise<'kept' | 'started' | 'created'> {
  const hash = await machineSpecHash(h);
  const cur = await run(['docker', 'container', 'inspect', '--format', '{{.State.Running}} {{index .Config.Labels "berth.sandbox.spec"}}', h.container], { allowFail: true });
  let result: 'kept' | 'started' | 'created' = 'kept';
  if (!opts.recreate && cur.code === 0 && cur.stdout.trim() === `true ${hash}`) {
    // running, same spec
  } else if (!opts.recreate && cur.code === 0 && cur.stdout.trim() === `false ${hash}`) {
    await run(['docker', 'start', h.container]);
    result = 'started';
  } else {
    if (cur.code === 0) await run(['docker', 'rm', '-f', h.container]);
    if (opts.recreate) await run(['docker', 'volume', 'rm', '-f', h.dockerVolume], { allowFail: true });
    await mkdir(join(MACHINE_APT_CACHE, h.name), { recursive: true });
    await forgetHostKey(h);
    await run(machineRunArgv(h, hash));
    result = 'created';
  }
  await authorizeKey(h);
  await waitForSsh(h);
  return result;
}

/** Our public key in the machine's root authorized_keys (what a provider does with an SSH key at order time). */
async function authorizeKey(h: SandboxHostSpec): Promise<void> {
  const pub = (await readFile(`${SANDBOX_SSH_KEY}.pub`, 'utf8')).trim();
  await run(['docker', 'exec', '-i', h.container, 'sh', '-c',
    'mkdir -p /root/.ssh && chmod 700 /root/.ssh && f=/root/.ssh/authorized_keys && k=$(cat) && { grep -qxF "$k" $f 2>/dev/null || printf "%s\\n" "$k" >> $f; } && chmod 600 $f'],
  { input: pub });
}

export async function sshWorks(h: SandboxHostSpec, timeoutMs = 10_000): Promise<boolean> {
  return ok(['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', `${h.sshUser}@${h.sshHost}`, 'true'], { timeoutMs });
}

export async function waitForSsh(h: SandboxHostSpec, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    if (await sshWorks(h)) return;
    await sleep(300);
  }
  throw new Error(`sandbox host ${h.name}: ssh ${h.sshUser}@${h.sshHost} does not answer; see docker logs ${h.container}`);
}

/** Docker answers inside the machine (checked out of band with docker exec). */
export async function machineDockerUp(h: SandboxHostSpec): Promise<boolean> {
  return ok(['docker', 'exec', h.container, 'docker', 'version', '--format', '{{.Server.Version}}'], { timeoutMs: 15_000 });
}

export async function waitForMachineDocker(h: SandboxHostSpec, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 300 && Date.now() < deadline; i++) {
    if (await machineDockerUp(h)) return;
    await sleep(500);
  }
  throw new Error(`sandbox host ${h.name}: dockerd did not answer within ${timeoutMs} ms; see docker exec ${h.container} tail /var/log/dockerd.log`);
}

export async function machineHasDocker(h: SandboxHostSpec): Promise<boolean> {
  return ok(['docker', 'exec', h.container, 'test', '-x', '/usr/sbin/dockerd'], { timeoutMs: 10_000 });
}

export async function ensureContext(h: SandboxHostSpec): Promise<void> {
  const r = await run(['docker', 'context', 'inspect', h.context, '--format', '{{.Endpoints.docker.Host}}'], { allowFail: true });
  if (r.code === 0 && r.stdout.trim() === h.sshTarget) return;
  if (r.code === 0) await run(['docker', 'context', 'rm', '-f', h.context]);
  await run(['docker', 'context', 'create', h.context, '--description', `Berth sandbox host ${h.name}`, '--docker', `host=${h.sshTarget}`]);
}

/** `docker --context berth-sandbox-hN info` answers without prompts: the host's engine version and ID. */
export async function checkContext(h: SandboxHostSpec): Promise<{ version: string; id: string }> {
  const r = await run(['docker', '--context', h.context, 'info', '--format', '{{.ServerVersion}} {{.ID}}'], { timeoutMs: 60_000 });
  const [version = '', id = ''] = r.stdout.trim().split(' ');
  return { version, id };
}

export async function contextWorks(h: SandboxHostSpec): Promise<boolean> {
  return ok(['docker', '--context', h.context, 'version', '--format', '{{.Server.Version}}'], { timeoutMs: 20_000 });
}

export async function machineRunning(h: SandboxHostSpec): Promise<boolean> {
  const r = await run(['docker', 'container', 'inspect', '--format', '{{.State.Running}}', h.container], { allowFail: true, timeoutMs: 10_000 });
  return r.stdout.trim() === 'true';
}

export async function stopMachine(h: SandboxHostSpec): Promise<void> {
  await run(['ssh', '-O', 'exit', `${h.sshUser}@${h.sshHost}`], { allowFail: true, timeoutMs: 5000 });
  await run(['docker', 'stop', '-t', '15', h.container], { allowFail: true, timeoutMs: 60_000 });
}
