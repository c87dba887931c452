// Throwaway Berth projects for end-to-end tests: a temp root with hosts.json pointing at the
// sandbox hosts (machines h1, h2, h3), shared/edge.yml trusting the sandbox ACME CA, and
// apps/<name>/app.yml files. Berth runs as a child process (the real CLI entry), exactly as an
// operator runs it. Host-level helpers (restart dockerd, reboot, cut network/SSH, reset to bare)
// come from src/sandbox/fleet.ts and are re-exported here.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { appDir, appProject, appSecretsDir, backupsDir, dynamicConfigFile } from '../../../src/names.ts';
import { hostSpec, SANDBOX_CA_DIR, SANDBOX_SSH_KEY, type SandboxHostSpec } from '../../../src/sandbox/config.ts';
import { routeDomainToHost, unrouteDomain } from '../../../src/sandbox/fleet.ts';
import { setDomainHost } from '../../../src/sandbox/http.ts';
import { REPO_ROOT } from '../../../src/sandbox/paths.ts';

export {
  cutNetwork, cutSsh, engineId, onConsole, onHost, rebootHost, resetHost, restartDocker, restoreNetwork, restoreSsh,
} from '../../../src/sandbox/fleet.ts';
export type { SandboxHostSpec } from '../../../src/sandbox/config.ts';

/** h1, h2: Docker preinstalled; h3: bare (sshd + apt) until `setup` installs Docker. */
export const H1 = hostSpec('h1');
export const H2 = hostSpec('h2');
export const H3 = hostSpec('h3');
/** The fresh lane's server (bare, like h3): setup and hardening, side by side with the main lane. */
export const H13 = hostSpec('h13');
/** The data lane's server (backups, restores, Litestream), beside the main lane. */
export const H14 = hostSpec('h14');

/**
 * Serve `domain` from `host`: Pebble's HTTP-01 validation (challtestsrv) and this process's HTTPS
 * helpers (sandboxRequest & co.) both go to that host. Without it every *.berth.test is h1's.
 */
export async function routeDomain(domain: string, host: SandboxHostSpec): Promise<void> {
  await routeDomainToHost(domain, host);
  setDomainHost(domain, host.edgeAddress);
}

export async function unrouteDomainHost(domain: string): Promise<void> {
  await unrouteDomain(domain);
  setDomainHost(domain, undefined);
}

export interface TestProject {
  root: string;
  writeApp(name: string, config: Record<string, unknown>): void;
  removeApp(name: string): void;
  berth(command: string, args: string[], env?: Record<string, string>): Promise<BerthRun>;
  cleanup(): void;
}

export interface BerthRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout + stderr, for "this never appears anywhere" checks. */
  all: string;
}

export function hostsFor(hosts: SandboxHostSpec[] = [H1]) {
  return {
    hosts: Object.fromEntries(
      hosts.map((h) => [h.name, { ssh: `${h.sshUser}@${h.sshHost}:${h.sshPort}`, identity_file: SANDBOX_SSH_KEY, context: h.context, roles: ['web'] }]),
    ),
  };
}

/** A project whose hosts.json lists `hosts` (default h1 only), each with roles [web]. */
export function makeProject(prefix = 'berth-e2e-', hosts: SandboxHostSpec[] = [H1]): TestProject {
  const root = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(root, 'apps'), { recursive: true });
  mkdirSync(join(root, 'shared'), { recursive: true });
  writeFileSync(join(root, 'hosts.json'), JSON.stringify(hostsFor(hosts), null, 2));
  copyFileSync(join(SANDBOX_CA_DIR, 'pebble-minica.pem'), join(root, 'shared', 'pebble-minica.pem'));
  writeFileSync(
    join(root, 'shared', 'edge.yml'),
    YAML.stringify({
      traefik: { image: 'traefik:v3.6.15' },
      socket_proxy: { image: 'tecnativa/docker-socket-proxy:v0.4.1' },
      acme: {
        email: 'ops@example.com',
        ca: 'custom',
        ca_server: 'https://pebble:14000/dir',
        ca_root: 'pebble-minica.pem',
        resolvers: { letsencrypt: { challenge: 'http-01' } },
      },
    }),
  );
  return {
    root,
    writeApp(name, config) {
      mkdirSync(join(root, 'apps', name), { recursive: true });
      writeFileSync(join(root, 'apps', name, 'app.yml'), YAML.stringify(config));
    },
    removeApp(name) {
      rmSync(join(root, 'apps', name), { recursive: true, force: true });
    },
    berth: (command, args, env = {}) => runBerth(root, command, args, env),
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The argv of a Berth command as npm's scripts/<name>.mjs runs it (the launcher with the command first). */
export const berthArgv = (command: string, args: string[]): [string, string[]] => [process.execPath, [join(REPO_ROOT, 'src', 'cli', 'launch.mjs'), command, ...args]];

/**
 * Run scripts/<command>.ts args… (through the launcher npm uses) against a project root; bounded to
 * 5 minutes. `onSpawn` gets the child's pid (the bench reads its memory from /proc while it runs).
 */
export function runBerth(root: string, command: string, args: string[], env: Record<string, string> = {}, onSpawn?: (pid: number) => void): Promise<BerthRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(...berthArgv(command, args), {
      cwd: REPO_ROOT,
      env: { ...process.env, BERTH_ROOT: root, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr, all: stdout + stderr });
    });
  });
}

/** Shell lines that take one app off a host: its containers, volumes, networks, state, secrets and route. */
export function resetAppScript(name: string): string {
  const project = appProject(name);
  return [
    `docker ps -aq --filter label=com.docker.compose.project=${project} | xargs -r docker rm -f >/dev/null`,
    `docker volume ls -q --filter label=com.docker.compose.project=${project} | xargs -r docker volume rm >/dev/null`,
    // Each project's default network takes an address pool; the engine has only about 30.
    `docker network ls -q --filter label=com.docker.compose.project=${project} | xargs -r docker network rm >/dev/null`,
    `rm -rf ${appDir(name)} ${appSecretsDir(name)} ${dynamicConfigFile(name)} ${backupsDir(name)}`,
  ].join('; ');
}

/** Remove everything the apps left on a sandbox host (containers, volumes, records, secrets, route); over SSH. */
export function resetApps(names: string[], host: SandboxHostSpec = H1) {
  const script = names.map(resetAppScript).join('; ');
  execFileSync('ssh', ['-p', String(host.sshPort), `${host.sshUser}@${host.sshHost}`, `command -v docker >/dev/null || exit 0; ${script}`], { stdio: 'ignore' });
}

/**
 * Images a test tags or runs on a host's engine directly: pulled through the sandbox's Docker Hub
 * stand-in when the machine lacks them (a fresh machine has none until something deploys them).
 */
export function ensureHostImages(refs: string[], host: SandboxHostSpec = H1) {
  for (const ref of refs) {
    try {
      execFileSync('docker', ['--context', host.context, 'image', 'inspect', ref], { stdio: 'ignore' });
    } catch {
      execFileSync('docker', ['--context', host.context, 'pull', '-q', ref], { stdio: 'ignore', timeout: 300_000 });
    }
  }
}
