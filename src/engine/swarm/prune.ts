// `npm run prune` for a cluster app: under its lock on the first manager, forget releases beyond
// keep_releases (never the live or previous one) and the Swarm secrets only they used.
import type { App, Project } from '../../config/schema.ts';
import type { Deps } from '../../app/deps.ts';
import { ensureContext } from '../../app/host.ts';
import type { PruneOutcome } from '../../app/prune.ts';
import { acquireLock } from '../../exec/lock.ts';
import { lockDir } from '../../names.ts';
import { planPrune } from '../../plan/prune-plan.ts';
import { clusterTarget, observeCluster } from './cluster.ts';
import { pruneCluster } from './deploy.ts';

export async function pruneClusterApp(deps: Deps, project: Project, app: App): Promise<PruneOutcome> {
  const t = clusterTarget(project, app);
  await ensureContext(deps.runner, t.primary);
  const lock = await acquireLock(deps.runner, t.primary.ssh, lockDir(app.name), `prune ${app.name}`, { host: t.primary.name, app: app.name, now: deps.now() });
  try {
    const state = await observeCluster(deps, t, app.name);
    const plan = planPrune({ ...state, containers: [] }, app.config.deploy.keep_releases, false);
    await pruneCluster(deps, t, app.name, app.config.deploy.keep_releases, state);
    return { app: app.name, host: t.name, kept: plan.kept, pruned: plan.pruned, imagesRemoved: [] };
  } finally {
    await lock.release();
  }
}
