// The committed example apps (apps/<name>/app.yml, which follow the seeds) as seed acceptance tests
// load them: parsed as written, so a test adapts only what the sandbox must change and says so.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { REGISTRY, type SandboxHostSpec } from '../../../src/sandbox/config.ts';
import { REPO_ROOT } from '../../../src/sandbox/paths.ts';

export type Config = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function exampleApp(name: string): Config {
  return YAML.parse(readFileSync(join(REPO_ROOT, 'apps', name, 'app.yml'), 'utf8')) as Config;
}

/** ghcr.io / Docker Hub → the sandbox registry: same repository path, the password from the environment. */
export function toSandboxRegistry(c: Config, repo: string): Config {
  const secret = c.registry.password_secret as string;
  const commands = { ...(c.secret_commands ?? {}) };
  delete commands[secret]; // `gh auth token` has no sandbox equivalent; the value comes from the env
  const secrets = [...new Set([...(c.secrets ?? []), secret])];
  return { ...c, secrets, image: `${REGISTRY.address}/${repo}`, registry: { server: REGISTRY.address, username: REGISTRY.username, password_secret: secret }, secret_commands: commands };
}

/** `docker --context <host> …` on a sandbox host (host state is read through its SSH context). */
export function onDocker(host: SandboxHostSpec, ...args: string[]): string {
  return execFileSync('docker', ['--context', host.context, ...args], { encoding: 'utf8' }).trim();
}

/** The container of an app's compose service on a host. */
export function serviceContainer(host: SandboxHostSpec, app: string, service: string): string {
  return onDocker(host, 'ps', '-aq', '--filter', `label=com.docker.compose.project=berth-${app.replace(/_/g, '-')}`, '--filter', `label=com.docker.compose.service=${service}`);
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A shell script on a sandbox host over SSH (as resetApps reaches it). */
export function onHostShell(host: SandboxHostSpec, script: string): string {
  return execFileSync('ssh', ['-p', String(host.sshPort), `${host.sshUser}@${host.sshHost}`, script], { encoding: 'utf8' }).trim();
}

/** Everything of an app on a host that a deploy would create: containers, volumes, records, route. */
export function appFootprint(host: SandboxHostSpec, app: string): string {
  const project = `berth-${app.replace(/_/g, '-')}`;
  return onHostShell(host, [
    `command -v docker >/dev/null || exit 0`,
    `docker ps -aq --filter label=com.docker.compose.project=${project}`,
    `docker volume ls -q --filter label=com.docker.compose.project=${project}`,
    `ls -d /var/lib/berth/apps/${app} /etc/berth/${app} /var/lib/berth/edge/dynamic/${app}.yml 2>/dev/null || true`,
  ].join('; '));
}
