// Shared plumbing of the Swarm engine: which hosts a cluster app involves (the first manager holds
// its state, lock and history; every manager is an edge), the one observation round trip, the
// stack deploy through the first manager's Docker context, and reading stored release files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App, ClusterConfig, Project } from '../../config/schema.ts';
import { swarmCmd } from '../../docker/swarm-argv.ts';
import { StepError } from '../../errors.ts';
import { parseFiles, swarmAppScripts } from '../../exec/swarm-app-scripts.ts';
import { appDir, appStack, dynamicConfigFile, releaseDir } from '../../names.ts';
import { STACK_FILE } from '../../plan/render-stack.ts';
import type { Deps } from '../../app/deps.ts';
import { type HostHandle, hostHandle } from '../../app/host.ts';
import { retrying, SSH_CONNECT } from '../../app/retry.ts';
import { type ClusterAppState, parseClusterObservation } from './state.ts';

export interface ClusterTarget {
  name: string;
  config: ClusterConfig;
  /** The first manager: state, lock, history, and where stack deploys go. */
  primary: HostHandle;
  /** Every manager runs the edge: routes are switched on each. */
  edges: HostHandle[];
  /** Every node of the cluster: with registry: none each gets the image over SSH. */
  nodes: HostHandle[];
}

export function clusterTarget(project: Project, app: App): ClusterTarget {
  const name = app.config.cluster!;
  const config = project.clusters?.[name];
  if (!config) throw new StepError('cluster', `${app.file}: cluster "${name}" is not defined in hosts.json`);
  const edges = config.managers.map((m) => hostHandle(m, project.hosts[m]!));
  const nodes = config.hosts.map((h) => hostHandle(h, project.hosts[h]!));
  return { name, config, primary: edges[0]!, edges, nodes };
}

/** The observation of a cluster app on its first manager (`image`: report the manager's copy of it). */
export async function observeCluster(deps: Deps, t: ClusterTarget, app: string, image?: string): Promise<ClusterAppState> {
  const cmd = swarmAppScripts.observe(t.primary.ssh, appDir(app), app, appStack(app), { route: dynamicConfigFile(app), image });
  const out = await retrying(deps.log, `${t.primary.name}: connect`, SSH_CONNECT, () => deps.runner.run(cmd));
  return parseClusterObservation(out.stdout, app);
}

/** Make the stack match `content` (written to a private temp file beside `extra` files such as litestream.yml). */
export async function deployStack(deps: Deps, t: ClusterTarget, stack: string, content: string, extra: Record<string, string>, opts: { registryAuth?: boolean; prune?: boolean } = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-stack-'));
  try {
    for (const [f, c] of Object.entries(extra)) await writeFile(join(dir, f), c);
    await writeFile(join(dir, STACK_FILE), content);
    await deps.runner.run(swarmCmd.stackDeploy(t.primary.context, join(dir, STACK_FILE), stack, { prune: opts.prune ?? true, registryAuth: opts.registryAuth }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Files of stored releases on the first manager, by release id and file name. */
export async function readReleaseFiles(deps: Deps, t: ClusterTarget, app: string, wanted: { release: string; file: string }[]): Promise<(string | undefined)[]> {
  const paths = wanted.map((w) => `${releaseDir(app, w.release)}/${w.file}`);
  const files = parseFiles((await deps.runner.run(swarmAppScripts.readFiles(t.primary.ssh, paths))).stdout);
  return paths.map((p) => files[p]);
}

/** `--hosts`/`--roles` pick hosts of per-host apps; a cluster app always deploys to its whole cluster. */
export function refuseHostFilter(app: App, only?: { hosts?: string[]; roles?: string[] }): void {
  if (only?.hosts || only?.roles) {
    throw new StepError('hosts', `${app.name} runs on cluster ${app.config.cluster}: Swarm places its tasks (hosts/roles in ${app.file}); --hosts and --roles apply to per-host apps only`);
  }
}
