// Docker Swarm argv builders (pure), run through a manager's (or a node's) Docker context, like
// every docker and compose command Berth runs.
import { type Cmd, read, write } from './command.ts';
import { docker } from './argv.ts';

export const swarmCmd = {
  /**
   * Make the stack match the file. --resolve-image never: the file already names the image (by
   * digest when known), nodes pull it themselves; --prune drops services the file no longer has.
   */
  stackDeploy: (ctx: string, file: string, stack: string, opts: { prune?: boolean; registryAuth?: boolean } = {}): Cmd =>
    write(docker(ctx, ['stack', 'deploy', '--detach=true', '--resolve-image', 'never', ...(opts.prune ? ['--prune'] : []), ...(opts.registryAuth ? ['--with-registry-auth'] : []), '-c', file, stack])),
  stackRm: (ctx: string, stack: string): Cmd => write(docker(ctx, ['stack', 'rm', stack])),
  /** Every task's lines, prefixed by Swarm with `<service>.<slot>.<task>@<node>`. */
  serviceLogs: (ctx: string, service: string, tail: number, follow = false, since?: string): Cmd =>
    read(docker(ctx, ['service', 'logs', '--timestamps', '--no-trunc', '--tail', String(tail), ...(since ? ['--since', since] : []), ...(follow ? ['--follow'] : []), service])),
  serviceScale: (ctx: string, service: string, replicas: number): Cmd => write(docker(ctx, ['service', 'scale', '--detach', `${service}=${replicas}`])),
  /** Running tasks of a service: `<task id>|<node>|<container id>|<state>`. */
  servicePs: (ctx: string, service: string): Cmd =>
    read(docker(ctx, ['service', 'ps', '--no-trunc', '--filter', 'desired-state=running', '--format', '{{.ID}}|{{.Node}}|{{.Name}}|{{.CurrentState}}', service])),
  /** A task's container id (`docker inspect` of a task on a manager). */
  taskContainer: (ctx: string, taskIds: string[]): Cmd => read(docker(ctx, ['inspect', '--format', '{{.ID}}|{{.Status.ContainerStatus.ContainerID}}', ...taskIds])),
};
