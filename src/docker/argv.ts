// Docker and Compose argv builders (pure). Every call goes through a named Docker context, so the
// same builders drive a Hetzner box or the sandbox host.
import { type Cmd, read, write } from './command.ts';

export const docker = (ctx: string, args: string[]) => ['docker', '--context', ctx, ...args];

export interface ComposeTarget {
  context: string;
  project: string;
  /** Local paths of the compose files (the rendered release). */
  files: string[];
  /** Secret values for ${NAME} interpolation; travel in env, never argv. */
  env?: Record<string, string>;
}

// --ansi never: no progress redraws (ESC[2K…) in what Berth captures and shows.
export const composeArgv = (t: ComposeTarget, args: string[]) => [
  'docker', '--context', t.context, 'compose', '--ansi', 'never', '-p', t.project, ...t.files.flatMap((f) => ['-f', f]), ...args,
];

const withEnv = (t: ComposeTarget) => (t.env ? { env: t.env } : {});

export const compose = {
  /** Start (or keep) services and wait until they are healthy. Only the named services are touched. */
  upWait: (t: ComposeTarget, services: string[], timeoutSeconds: number): Cmd =>
    write(composeArgv(t, ['up', '-d', '--no-deps', '--wait', '--wait-timeout', String(timeoutSeconds), ...services]), withEnv(t)),
  /** Start services without waiting (replicators, backup loops). */
  up: (t: ComposeTarget, services: string[]): Cmd => write(composeArgv(t, ['up', '-d', '--no-deps', ...services]), withEnv(t)),
  /** Create (or recreate) services' containers without starting them (the idle colour, while the release command runs). */
  create: (t: ComposeTarget, services: string[]): Cmd => write(composeArgv(t, ['up', '--no-start', '--no-deps', ...services]), withEnv(t)),
  /** One-off command in a service's image, against the real volumes (release command). */
  run: (t: ComposeTarget, service: string, command: string[]): Cmd =>
    write(composeArgv(t, ['run', '--rm', '--no-deps', '-T', service, ...command]), withEnv(t)),
  stop: (t: ComposeTarget, services: string[], timeoutSeconds: number): Cmd =>
    write(composeArgv(t, ['stop', '-t', String(timeoutSeconds), ...services]), withEnv(t)),
  logs: (t: ComposeTarget, services: string[], tail: number, follow = false, since?: string): Cmd =>
    read(composeArgv(t, ['logs', '--no-color', '--timestamps', '--tail', String(tail), ...(since ? ['--since', since] : []), ...(follow ? ['--follow'] : []), ...services]), withEnv(t)),
  exec: (t: ComposeTarget, service: string, command: string[], interactive: boolean): Cmd =>
    write(composeArgv(t, ['exec', ...(interactive ? [] : ['-T']), service, ...command]), withEnv(t)),
  config: (t: ComposeTarget): Cmd => read(composeArgv(t, ['config', '--quiet']), withEnv(t)),
};

export const dockerCmd = {
  info: (ctx: string): Cmd => read(docker(ctx, ['info', '--format', '{{.ServerVersion}}'])),
  composeVersion: (ctx: string): Cmd => read(docker(ctx, ['compose', 'version', '--short'])),
  contextInspect: (ctx: string): Cmd => read(['docker', 'context', 'inspect', ctx, '--format', '{{.Endpoints.docker.Host}}']),
  contextCreate: (ctx: string, hostUrl: string): Cmd =>
    write(['docker', 'context', 'create', ctx, '--description', 'Berth host', '--docker', `host=${hostUrl}`]),
  contextUpdate: (ctx: string, hostUrl: string): Cmd => write(['docker', 'context', 'update', ctx, '--docker', `host=${hostUrl}`]),
  networkInspect: (ctx: string, name: string): Cmd => read(docker(ctx, ['network', 'inspect', name, '--format', '{{.Name}}'])),
  networkCreate: (ctx: string, name: string): Cmd => write(docker(ctx, ['network', 'create', '--driver', 'bridge', '--label', 'berth.managed=true', name])),
  imageInspect: (ctx: string, image: string): Cmd =>
    read(docker(ctx, ['image', 'inspect', image, '--format', '{{.Id}} {{json .RepoDigests}}'])),
  /** The image's own entrypoint and command (the secrets wrapper execs them). */
  imageExec: (ctx: string, image: string): Cmd =>
    read(docker(ctx, ['image', 'inspect', image, '--format', '{{json .Config.Entrypoint}} {{json .Config.Cmd}}'])),
  pull: (ctx: string, image: string): Cmd => write(docker(ctx, ['pull', '--quiet', image])),
  login: (ctx: string, server: string, username: string, password: string): Cmd =>
    write(docker(ctx, ['login', server, '--username', username, '--password-stdin']), { input: password }),
  /** Build on the host's engine (the context ships the build context over SSH). */
  buildOnHost: (ctx: string, image: string, contextDir: string, dockerfile: string, args: Record<string, string>): Cmd =>
    write(docker(ctx, ['build', '-t', image, '-f', dockerfile, ...Object.entries(args).sort().flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]), contextDir])),
  buildLocal: (image: string, contextDir: string, dockerfile: string, args: Record<string, string>): Cmd =>
    write(['docker', 'build', '-t', image, '-f', dockerfile, ...Object.entries(args).sort().flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]), contextDir]),
  pushLocal: (image: string): Cmd => write(['docker', 'push', '--quiet', image]),
  loginLocal: (server: string, username: string, password: string): Cmd =>
    write(['docker', 'login', server, '--username', username, '--password-stdin'], { input: password }),
  inspectContainers: (ctx: string, ids: string[]): Cmd => read(docker(ctx, ['inspect', ...ids])),
  psByLabel: (ctx: string, label: string): Cmd =>
    read(docker(ctx, ['ps', '--all', '--filter', `label=${label}`, '--format', '{{json .}}'])),
};
