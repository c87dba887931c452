// Day-two operations on a cluster app: status (one row per cluster app: release, colour, tasks),
// logs of every task (each line prefixed with its node and task), exec in one task (the first, a
// chosen --replica, or --all one after another), remove (routes, stack, secrets, state).
import type { App, Project } from '../../config/schema.ts';
import type { Deps } from '../../app/deps.ts';
import { ensureContext, hostHandle } from '../../app/host.ts';
import { docker } from '../../docker/argv.ts';
import { write } from '../../docker/command.ts';
import { swarmCmd } from '../../docker/swarm-argv.ts';
import { StepError } from '../../errors.ts';
import { acquireLock } from '../../exec/lock.ts';
import { parityScripts } from '../../exec/parity-scripts.ts';
import { sshScript } from '../../docker/ssh.ts';
import { appDir, appSecretsDir, appStack, dynamicConfigFile, lockDir, NODE_LABEL, releaseStack, stackService, traefikService, webService } from '../../names.ts';
import { withSecretEnv } from '../../plan/secret-env.ts';
import { type ClusterTarget, clusterTarget, observeCluster } from './cluster.ts';
import { serviceOf } from './state.ts';

export interface ClusterStatus {
  release: string;
  colour: string;
  health: string;
  previous?: string;
}

/** Release, colour and tasks of a cluster app (health "3/3 tasks", or what is missing). */
export async function clusterStatus(deps: Deps, project: Project, app: App): Promise<ClusterStatus> {
  const t = clusterTarget(project, app);
  await ensureContext(deps.runner, t.primary);
  const s = await observeCluster(deps, t, app.name);
  if (!s.current) return { release: '-', colour: '-', health: 'not deployed' };
  const svc = serviceOf(s, webService(s.current.colour));
  const health = !svc ? 'missing' : `${svc.running}/${svc.desired ?? 0} tasks`;
  return { release: s.current.release, colour: s.current.colour, health, previous: s.current.previous?.release };
}

/** "3/3 tasks" (every desired task runs) counts as healthy in status. */
export const tasksHealthy = (health: string) => {
  const m = /^(\d+)\/(\d+) tasks/.exec(health);
  return !!m && m[1] === m[2] && m[1] !== '0';
};

interface Task {
  id: string;
  slot: string;
  host: string;
  container: string;
}

/** Running tasks of a service: id, slot, the hosts.json name of its node, its container. */
const TASKS = `
for t in $(docker service ps -q --filter desired-state=running "$1" 2>/dev/null); do
  docker inspect --format '{{.ID}}|{{.Slot}}|{{.NodeID}}|{{.Status.ContainerStatus.ContainerID}}|{{.Status.State}}' "$t"
done | while IFS='|' read -r id slot node cid st; do
  [ "$st" = running ] || continue
  h=$(docker node inspect --format '{{index .Spec.Labels "${NODE_LABEL.host}"}}' "$node" 2>/dev/null)
  echo "$id|$slot|$h|$cid"
done
`;

async function liveTasks(deps: Deps, project: Project, app: App, service?: string): Promise<{ t: ClusterTarget; svc: string; tasks: Task[] }> {
  const t = clusterTarget(project, app);
  await ensureContext(deps.runner, t.primary);
  const s = await observeCluster(deps, t, app.name);
  if (!s.current) throw new StepError('exec', `${app.name} is not deployed on cluster ${t.name}`);
  const svc = stackService(app.name, service ?? webService(s.current.colour));
  const r = await deps.runner.run(sshScript(t.primary.ssh, TASKS, [svc], { mutates: false }));
  const tasks = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id = '', slot = '', host = '', container = ''] = l.split('|');
      return { id, slot, host, container };
    })
    .sort((a, b) => Number(a.slot) - Number(b.slot));
  return { t, svc, tasks };
}

const taskLabel = (k: Task) => `${k.host || '?'}/${k.slot}.${k.id.slice(0, 12)}`;

/** `svc.slot.task@node    | line` (docker service logs) → `node/slot.task | line`. */
export function prefixServiceLogs(text: string, stackService: string): string {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      // With --timestamps Docker puts the time first: `<time> <service>.<slot>.<task>@<node> | …`.
      const m = /^(\S+ )?(\S+?)\.(\d+)\.([a-z0-9]+)@(\S+)\s+\| ?(.*)$/.exec(l);
      if (!m || m[2] !== stackService) return l;
      return `${m[5]}/${m[3]}.${m[4]!.slice(0, 12)} | ${m[1] ?? ''}${m[6]}`;
    })
    .join('\n');
}

export async function clusterLogs(deps: Deps, project: Project, app: App, opts: { follow?: boolean; tail?: number; service?: string; since?: string; grep?: string }): Promise<number> {
  const t = clusterTarget(project, app);
  await ensureContext(deps.runner, t.primary);
  const s = await observeCluster(deps, t, app.name);
  if (!s.current && !opts.service) throw new StepError('logs', `${app.name} is not deployed on cluster ${t.name}`);
  const svc = stackService(app.name, opts.service ?? webService(s.current!.colour));
  const cmd = swarmCmd.serviceLogs(t.primary.context, svc, opts.tail ?? 100, opts.follow, opts.since);
  // Every task's lines as they arrive, each prefixed node/slot.task (and filtered by --grep).
  return readServiceLogs(
    (onLine) => deps.runner.run(cmd, { allowFailure: true, onLine }).then((r) => r.exitCode),
    (line) => {
      if (opts.grep === undefined || line.includes(opts.grep)) deps.log.output(prefixServiceLogs(line, svc));
    },
  );
}

/**
 * `docker service logs` once, or twice: right after a deploy or rollback the service's task list can
 * still name a task the manager has just removed, and Docker answers "task … not found" and stops.
 * Said before any line, that answer is held back and the logs are read again once (after `pauseMs`);
 * said again, or after lines, it is printed like any other line. Resolves to the exit code.
 */
export async function readServiceLogs(
  run: (onLine: (line: string, from: 'stdout' | 'stderr') => void) => Promise<number>,
  print: (line: string) => void,
  pauseMs = 500,
): Promise<number> {
  let printed = 0;
  const once = async (hold: boolean) => {
    let held: string | undefined;
    const exitCode = await run((line, from) => {
      if (hold && from === 'stderr' && !printed && held === undefined && LOGS_TASK_GONE.test(line)) held = line;
      else {
        printed++;
        print(line);
      }
    });
    return { exitCode, held };
  };
  const first = await once(true);
  if (first.held === undefined) return first.exitCode;
  if (first.exitCode !== 0 && !printed) {
    await new Promise((done) => setTimeout(done, pauseMs));
    return (await once(false)).exitCode;
  }
  print(first.held);
  return first.exitCode;
}

/** Docker's error when `service logs` meets a task removed while it read the list. */
export const LOGS_TASK_GONE = /^(error response from daemon|error from daemon in stream)\b.*(\btask\b.*\bnot found|no such task)/i;

/** Run a command in one task of the live colour (the lowest slot, or --replica N), or in each with --all. */
export async function clusterExec(deps: Deps, project: Project, app: App, opts: { command: string[]; interactive?: boolean; all?: boolean; replica?: number }): Promise<{ exitCode: number }> {
  const { t, svc, tasks } = await liveTasks(deps, project, app);
  if (!tasks.length) throw new StepError('exec', `${svc} has no running task on cluster ${t.name}`);
  const chosen = opts.all ? tasks : opts.replica !== undefined ? tasks.filter((k) => Number(k.slot) === opts.replica) : [tasks[0]!];
  if (!chosen.length) throw new StepError('exec', `${svc} has no running task in slot ${opts.replica} (slots: ${tasks.map((k) => k.slot).join(', ')})`);
  // One task keeps the terminal (streamed; -i -t when interactive); several are captured in turn.
  const run = async (k: Task, terminal: boolean) => {
    if (!project.hosts[k.host]) throw new StepError('exec', `task ${taskLabel(k)} runs on a node that is not in hosts.json`);
    const h = hostHandle(k.host, project.hosts[k.host]!);
    await ensureContext(deps.runner, h);
    const argv = docker(h.context, ['exec', ...(terminal && opts.interactive ? ['-i', '-t'] : []), k.container, ...withSecretEnv(opts.command)]);
    return deps.runner.run(write(argv), { interactive: terminal, allowFailure: true });
  };
  if (chosen.length === 1 && !opts.all) return run(chosen[0]!, true);
  let exitCode = 0;
  for (const k of chosen) {
    deps.log.output(`--- ${taskLabel(k)}`);
    const r = await run(k, false);
    if (r.stdout) deps.log.output(r.stdout.replace(/\n$/, ''));
    if (r.stderr.trim()) deps.log.warn(`${taskLabel(k)}: ${r.stderr.trim()}`);
    if (r.exitCode !== 0) exitCode ||= r.exitCode;
  }
  return { exitCode };
}

/** Wait until the stack's services are gone, then remove its secrets (Swarm refuses to remove one in use). */
const REMOVE_APP = `
stack="$1"; job="$2"; app="$3"; volumes="$4"
docker stack rm "$stack" "$job" >/dev/null 2>&1
i=0; while [ "$i" -lt 150 ]; do [ -z "$(docker service ls -q --filter "label=com.docker.stack.namespace=$stack")" ] && break; i=$((i + 1)); sleep 0.2; done
i=0; while [ "$i" -lt 150 ]; do [ -z "$(docker ps -q --filter "label=com.docker.stack.namespace=$stack")" ] && break; i=$((i + 1)); sleep 0.2; done
docker secret ls -q --filter "label=berth.app=$app" | xargs -r docker secret rm >/dev/null 2>&1
docker config ls -q --filter "label=com.docker.stack.namespace=$stack" | xargs -r docker config rm >/dev/null 2>&1
[ "$volumes" = 1 ] && docker volume ls -q --filter "label=com.docker.stack.namespace=$stack" | xargs -r docker volume rm >/dev/null 2>&1
echo removed
`;

/** On a node: the app's volumes (--volumes, by name) once the stack's containers are gone there. */
const REMOVE_VOLUMES = `
stack="$1"; shift
i=0; while [ "$i" -lt 100 ]; do [ -z "$(docker ps -aq --filter "label=com.docker.stack.namespace=$stack")" ] && break; i=$((i + 1)); sleep 0.2; done
for v in "$@"; do docker volume rm "$v" >/dev/null 2>&1; done; true
`;

/** The Docker names of an app's volumes and its accessories' (the stack names them `berth-<app>_<volume>`). */
export const volumeNames = (app: App) =>
  [...new Set([...Object.keys(app.config.volumes), ...Object.values(app.config.accessories).flatMap((a) => Object.keys(a.volumes))])].sort().map((v) => `${appStack(app.name)}_${v}`);

export async function clusterRemove(deps: Deps, project: Project, app: App, opts: { volumes?: boolean }): Promise<{ host: string; volumes: boolean; keptBackups: string }[]> {
  const t = clusterTarget(project, app);
  await ensureContext(deps.runner, t.primary);
  await acquireLock(deps.runner, t.primary.ssh, lockDir(app.name), `remove ${app.name}`, { host: t.primary.name, app: app.name, now: deps.now() });
  const end = deps.log.step(`${t.name}: remove ${app.name}`);
  for (const e of t.edges) {
    const un = await deps.runner.run(parityScripts.unroute(e.ssh, dynamicConfigFile(app.name), `${traefikService(app.name)}@file`, appDir(app.name)), { allowFailure: true });
    if (un.exitCode !== 0) throw new StepError('remove', `Traefik on ${e.name} still routes ${app.name} after its route file was deleted; nothing else was removed`, { app: app.name });
  }
  await deps.runner.run(sshScript(t.primary.ssh, REMOVE_APP, [appStack(app.name), releaseStack(app.name), app.name, opts.volumes ? '1' : '0']));
  if (opts.volumes) {
    for (const n of t.config.hosts) {
      const h = hostHandle(n, project.hosts[n]!);
      await deps.runner.run(sshScript(h.ssh, REMOVE_VOLUMES, [appStack(app.name), ...volumeNames(app)]), { allowFailure: true });
    }
  }
  await deps.runner.run(parityScripts.forget(t.primary.ssh, [appDir(app.name), appSecretsDir(app.name)]));
  end();
  return [{ host: t.name, volumes: !!opts.volumes, keptBackups: '' }];
}

/** The cluster's first manager: where a cluster app's history, lock and releases live. */
export const clusterPrimary = (project: Project, app: App) => clusterTarget(project, app).primary;
