// The bench's view of the sandbox: a throwaway Berth project (built exactly as the e2e tests build
// one), the host's Docker engine, sshd's log and the Berth CLI run as a child process.
import { execFileSync } from 'node:child_process';
import {
  makeProject, onConsole, rebootHost, resetApps, restartDocker, runBerth, H1, H2, H3, type BerthRun, type SandboxHostSpec, type TestProject,
} from '../../test/e2e/support/project.ts';
import { run } from '../sandbox/proc.ts';
import { join } from 'node:path';
import { berthStateDir } from '../app/docker-ssh.ts';
import { CONTROL_PATH } from '../docker/ssh.ts';
import { countAcceptedConnections } from './analyze.ts';

export { H1, H2, H3, makeProject, onConsole, rebootHost, resetApps, restartDocker, type BerthRun, type SandboxHostSpec, type TestProject };

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Every scenario deploys berth/testapp:v1|v2 "hot" (already on the host). A host keeps a tag it
 * pulled from an older sandbox build (e.g. without the digest-named assets), so pull both again
 * from the sandbox mirror first: the bench measures the app this checkout builds. Bare hosts are skipped.
 */
export async function refreshTestImages(hosts: SandboxHostSpec[]): Promise<string> {
  const notes: string[] = [];
  for (const h of hosts) {
    const r = await onConsole(h, 'command -v docker >/dev/null || { echo no-docker; exit 0; }; for t in v1 v2; do docker pull -q "berth/testapp:$t" >/dev/null || exit 1; done; echo ok', { allowFail: true, timeoutMs: 180_000 });
    if (r.code !== 0) throw new Error(`${h.name}: could not pull berth/testapp from the sandbox mirror: ${(r.stderr || r.stdout).trim().slice(-300)}`);
    notes.push(`${h.name} ${r.stdout.trim()}`);
  }
  return notes.join(', ');
}

/**
 * Docker on the sandbox host without SSH (docker exec into the host machine, its console), so the
 * bench's own reads stay out of the SSH connection count.
 */
export const dockerLocal = (args: string[], timeoutMs = 60_000) =>
  execFileSync('docker', ['exec', H1.container, 'docker', ...args], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** `docker compose` of a baseline project, run over the host's SSH Docker context like Berth. */
export async function composeOnHost(project: string, file: string, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000) {
  return run(['docker', '--context', H1.context, 'compose', '-p', project, '-f', file, ...args], { env: { ...process.env, ...env }, timeoutMs });
}

/** Close every SSH ControlMaster to the host, so the next command opens a fresh connection. */
export async function closeSshMasters() {
  const target = [`-p`, String(H1.sshPort), `${H1.sshUser}@${H1.sshHost}`];
  await run(['ssh', '-O', 'exit', ...target], { allowFail: true, timeoutMs: 5000 });
  // Berth's own ControlPaths, used when ~/.ssh/config does not multiplex the host.
  for (const path of [`${join(berthStateDir(), 'ssh', 'cm')}/%C`, CONTROL_PATH]) {
    await run(['ssh', '-o', `ControlPath=${path}`, '-O', 'exit', ...target], { allowFail: true, timeoutMs: 5000 });
  }
}

/** Count new SSH connections (sshd `Accepted publickey` lines) while `fn` runs. */
export async function countSshConnections<T>(fn: () => Promise<T>): Promise<{ value: T; connections: number }> {
  // sshd logs to /var/log/auth.log inside the host machine; read it out of band (docker exec), not over SSH.
  const size = () => Number(execFileSync('docker', ['exec', H1.container, 'sh', '-c', 'stat -c %s /var/log/auth.log 2>/dev/null || echo 0'], { encoding: 'utf8' }).trim()) || 0;
  const from = size();
  const value = await fn();
  await sleep(200); // sshd writes the line right after auth; let it land
  const chunk = execFileSync('docker', ['exec', H1.container, 'tail', '-c', `+${from + 1}`, '/var/log/auth.log'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { value, connections: countAcceptedConnections(chunk) };
}

/** Epoch ms when a container of `project` running `image` reported healthy between `since` and `until`. */
export function healthyAt(project: string, image: string, since: number, until: number): number | undefined {
  const out = dockerLocal([
    'events', '--since', (since / 1000).toFixed(3), '--until', (until / 1000).toFixed(3),
    '--filter', 'type=container', '--filter', 'event=health_status', '--filter', `label=com.docker.compose.project=${project}`,
    '--format', '{{json .}}',
  ]);
  const times = out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { status?: string; Action?: string; timeNano: number; Actor?: { Attributes?: Record<string, string> } })
    .filter((e) => /healthy$/.test(e.status ?? e.Action ?? '') && !/unhealthy/.test(e.status ?? e.Action ?? '') && e.Actor?.Attributes?.image === image)
    .map((e) => Math.round(e.timeNano / 1e6));
  return times.length ? Math.min(...times) : undefined;
}

/** Wall time of a Berth CLI command (the real entry point, as an operator runs it); `onSpawn` gets its pid. */
export async function timedBerth(p: TestProject, command: string, args: string[], env: Record<string, string> = {}, onSpawn?: (pid: number) => void) {
  const t0 = performance.now();
  const r = await runBerth(p.root, command, args, env, onSpawn);
  const wallMs = performance.now() - t0;
  if (r.code !== 0) throw new Error(`berth ${command} ${args.join(' ')} failed (exit ${r.code}):\n${r.all.trim().split('\n').slice(-25).join('\n')}`);
  return { r, wallMs };
}
