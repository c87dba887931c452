// Release retention: after a successful deploy (under its lock) and as `npm run prune -- [<app>]`,
// forget releases beyond deploy.keep_releases on each host (src/plan/prune-plan.ts decides).
import type { App } from '../config/schema.ts';
import { loadProject } from '../config/load.ts';
import { placeApp } from '../plan/placement.ts';
import { pruneClusterApp } from '../engine/swarm/prune.ts';
import { acquireLock } from '../exec/lock.ts';
import { pruneScript } from '../exec/prune.ts';
import { type AppState, parseObservation } from '../exec/state.ts';
import { hostScripts } from '../exec/host-scripts.ts';
import { appDir, appProject, appSecretSetsDir, appSecretsDir, lockDir, releasesDir } from '../names.ts';
import { planPrune } from '../plan/prune-plan.ts';
import { findApp } from './app-context.ts';
import type { Deps } from './deps.ts';
import { ensureContext, type HostHandle, hostHandle } from './host.ts';

export interface PruneOutcome {
  app: string;
  host: string;
  kept: string[];
  pruned: string[];
  imagesRemoved: string[];
}

/** Prune with the lock already held and `state` read under it. */
export async function pruneOnHost(deps: Deps, h: HostHandle, app: App, state: Pick<AppState, 'current' | 'releases' | 'containers'>): Promise<PruneOutcome> {
  const plan = planPrune(state, app.config.deploy.keep_releases, !!app.config.build || !!app.config.registry);
  const out: PruneOutcome = { app: app.name, host: h.name, kept: plan.kept, pruned: [], imagesRemoved: [] };
  if (!plan.pruned.length) return out;
  const r = await deps.runner.run(pruneScript(h.ssh, releasesDir(app.name), `${appSecretsDir(app.name)}/releases`, plan.pruned, plan.images, { dir: appSecretSetsDir(app.name), project: appProject(app.name) }));
  for (const line of r.stdout.split('\n')) {
    const [what, arg] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    if (what === 'pruned') out.pruned.push(arg);
    if (what === 'image-removed') out.imagesRemoved.push(arg);
  }
  deps.log.info(`${h.name}: pruned ${out.pruned.length} release(s) of ${app.name} beyond keep_releases=${app.config.deploy.keep_releases}${out.imagesRemoved.length ? ` and ${out.imagesRemoved.length} image(s)` : ''}`);
  return out;
}

/** After a deploy: retention never fails the deploy that already switched. */
export async function pruneAfterDeploy(deps: Deps, h: HostHandle, app: App, state: Pick<AppState, 'current' | 'releases' | 'containers'>): Promise<void> {
  try {
    await pruneOnHost(deps, h, app, state);
  } catch (err) {
    deps.log.warn(`${h.name}: pruning old releases of ${app.name} failed (the deploy itself succeeded): ${(err as Error).message.split('\n')[0]}`);
  }
}

/** `npm run prune -- [<app>]`: every app (or one) on each of its hosts, under the app's lock. */
export async function prune(deps: Deps, opts: { app?: string }): Promise<PruneOutcome[]> {
  const project = await loadProject(deps.root);
  const apps = opts.app ? [findApp(project, opts.app)] : project.apps;
  const out: PruneOutcome[] = [];
  for (const app of apps) {
    if (app.config.cluster) {
      out.push(await pruneClusterApp(deps, project, app));
      continue;
    }
    for (const name of placeApp(app, project.hosts).hosts) {
      const h = hostHandle(name, project.hosts[name]!);
      await ensureContext(deps.runner, h);
      const lock = await acquireLock(deps.runner, h.ssh, lockDir(app.name), `prune ${app.name}`, { host: name, app: app.name, now: deps.now() });
      try {
        const state = parseObservation((await deps.runner.run(hostScripts.observeApp(h.ssh, appDir(app.name), app.name))).stdout);
        out.push(await pruneOnHost(deps, h, app, state));
      } finally {
        await lock.release();
      }
    }
  }
  return out;
}
