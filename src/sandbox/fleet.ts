// What a test does TO a sandbox host from outside, as an operator or an outage would: restart its
// dockerd, reboot it, cut and restore its network or its SSH, reset it to a bare server. Each
// touches one machine only (never this machine's engine or the other hosts).
import { FLEET_NETWORK, PEBBLE, type SandboxHostSpec } from './config.ts';
import { ensureMachine, machineDockerUp, waitForMachineDocker, waitForSsh } from './hosts.ts';
import { sandboxRequest } from './http.ts';
import { run, sleep, type RunResult } from './proc.ts';

/** Run a shell script inside the machine out of band (a console, not SSH): works while its network is cut. */
export function onConsole(h: SandboxHostSpec, script: string, opts: { allowFail?: boolean; timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return run(['docker', 'exec', '-i', h.container, 'sh', '-c', script], { timeoutMs: 120_000, ...opts });
}

/** Run a shell script on the host over SSH, as Berth reaches it. */
export function onHost(h: SandboxHostSpec, script: string, opts: { allowFail?: boolean; timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return run(['ssh', '-o', 'BatchMode=yes', `${h.sshUser}@${h.sshHost}`, script], { timeoutMs: 120_000, ...opts });
}

async function dockerdPid(h: SandboxHostSpec): Promise<string> {
  return (await onConsole(h, 'cat /run/docker.pid 2>/dev/null || true', { allowFail: true })).stdout.trim();
}

/**
 * Restart the host's dockerd (`systemctl restart docker`): SIGTERM stops it and its containers; the
 * machine's init starts it again; containers come back by their restart policies. Resolves when the
 * new daemon answers.
 */
export async function restartDocker(h: SandboxHostSpec, timeoutMs = 90_000): Promise<void> {
  const before = await dockerdPid(h);
  if (!before) throw new Error(`${h.name}: dockerd is not running`);
  await onConsole(h, `kill -TERM ${before}; i=0; while kill -0 ${before} 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const now = await dockerdPid(h);
    if (now && now !== before && (await machineDockerUp(h))) return;
    await sleep(300);
  }
  throw new Error(`${h.name}: dockerd did not come back within ${timeoutMs} ms`);
}

/** Reboot the host (docker restart of the machine): every process stops; sshd and dockerd start at boot. */
export async function rebootHost(h: SandboxHostSpec, timeoutMs = 120_000): Promise<void> {
  await run(['ssh', '-O', 'exit', `${h.sshUser}@${h.sshHost}`], { allowFail: true, timeoutMs: 5000 });
  await run(['docker', 'restart', '-t', '15', h.container], { timeoutMs: 60_000 });
  await waitForSsh(h, timeoutMs);
  if ((await onConsole(h, 'test -x /usr/sbin/dockerd', { allowFail: true })).code === 0) await waitForMachineDocker(h, timeoutMs);
}

/**
 * Cut the host off the network: it leaves the fleet network, so neither SSH nor its 80/443 answer
 * (from this machine or another host) and it reaches nothing. restoreNetwork reconnects it at its address.
 */
export async function cutNetwork(h: SandboxHostSpec): Promise<void> {
  await run(['ssh', '-O', 'exit', `${h.sshUser}@${h.sshHost}`], { allowFail: true, timeoutMs: 5000 });
  await run(['docker', 'network', 'disconnect', '-f', FLEET_NETWORK.name, h.container]);
}

export async function restoreNetwork(h: SandboxHostSpec): Promise<void> {
  const r = await run(['docker', 'container', 'inspect', '--format', `{{with index .NetworkSettings.Networks "${FLEET_NETWORK.name}"}}{{.IPAddress}}{{end}}`, h.container]);
  if (r.stdout.trim() !== h.address) await run(['docker', 'network', 'connect', '--ip', h.address, FLEET_NETWORK.name, h.container]);
  await waitForSsh(h);
}

/**
 * Cut only the host's SSH (its firewall rejects port 22 with a TCP reset, so open sessions die at
 * once, as when the link to the operator goes away); the host keeps serving. restoreSsh undoes it.
 */
export async function cutSsh(h: SandboxHostSpec): Promise<void> {
  await onConsole(h, 'iptables -I INPUT 1 -p tcp --dport 22 -m comment --comment berth-sandbox-cut -j REJECT --reject-with tcp-reset');
}

export async function restoreSsh(h: SandboxHostSpec): Promise<void> {
  await onConsole(h, 'while iptables -D INPUT -p tcp --dport 22 -m comment --comment berth-sandbox-cut -j REJECT --reject-with tcp-reset 2>/dev/null; do :; done');
  await run(['ssh', '-O', 'exit', `${h.sshUser}@${h.sshHost}`], { allowFail: true, timeoutMs: 5000 });
  await waitForSsh(h);
}

/** Throw the machine away and start it again from its image (a bare host is bare again: no Docker). */
export async function resetHost(h: SandboxHostSpec): Promise<void> {
  await ensureMachine(h, { recreate: true });
  if (!h.bare) await waitForMachineDocker(h);
}

/** The host's `docker info` ID (its own engine), read over SSH; undefined when Docker is not installed. */
export async function engineId(h: SandboxHostSpec): Promise<string | undefined> {
  const r = await onHost(h, 'command -v docker >/dev/null && docker info --format "{{.ID}}"', { allowFail: true, timeoutMs: 30_000 });
  return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/**
 * Point a test domain at a host for ACME validation (challtestsrv answers Pebble with the host's
 * fleet address; without a record every name answers h1's). Pair it with `resolveTo: h.edgeAddress`
 * (or setDomainHost in http.ts) for requests from this machine.
 */
export async function routeDomainToHost(domain: string, h: SandboxHostSpec): Promise<void> {
  const r = await sandboxRequest(`${PEBBLE.challManagementUrl}/add-a`, { method: 'POST', body: JSON.stringify({ host: `${domain}.`, addresses: [h.address] }) });
  if (r.status !== 200) throw new Error(`challtestsrv add-a ${domain}: HTTP ${r.status}`);
}

export async function unrouteDomain(domain: string): Promise<void> {
  await sandboxRequest(`${PEBBLE.challManagementUrl}/clear-a`, { method: 'POST', body: JSON.stringify({ host: `${domain}.` }) }).catch(() => undefined);
}
