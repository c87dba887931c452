// `npm run remove -- <app> [--volumes] [--yes]` (Kamal's `kamal remove`): on each of the app's hosts,
// under the app's lock: drop its Traefik route (confirmed through Traefik's API) and its maintenance
// route and page server if any, stop and remove its containers and networks (and with --volumes its
// volumes: the data), then its host state and secrets.
// pg_dump files in /var/lib/berth/backups/<app>/ are kept. Never touches another app or the edge.
import { loadProject } from '../config/load.ts';
import { filterHosts, type HostFilter } from '../config/host-filter.ts';
import { composeArgv } from '../docker/argv.ts';
import { write } from '../docker/command.ts';
import { StepError } from '../errors.ts';
import { acquireLock } from '../exec/lock.ts';
import { parityScripts } from '../exec/parity-scripts.ts';
import { appDir, appProject, appSecretsDir, backupsDir, dynamicConfigFile, lockDir, originCertHostFiles, traefikService } from '../names.ts';
import { findApp } from './app-context.ts';
import { clusterRemove } from '../engine/swarm/ops.ts';
import type { Deps } from './deps.ts';
import { ensureContext, hostHandle } from './host.ts';
import { dropMaintenance } from './maintenance.ts';

export interface RemoveOutcome {
  host: string;
  volumes: boolean;
  keptBackups: string;
}

/** Pure: may remove proceed? Without a terminal it needs --yes; with one, the typed app name. */
export function removeConfirmation(opts: { yes?: boolean; tty: boolean; typed?: string; app: string }): { ok: true } | { ok: false; reason: string } {
  if (opts.yes) return { ok: true };
  if (!opts.tty) return { ok: false, reason: `remove deletes ${opts.app}'s containers and routes; without a terminal to confirm, rerun with --yes` };
  if (opts.typed?.trim() === opts.app) return { ok: true };
  return { ok: false, reason: `not confirmed (typed ${JSON.stringify(opts.typed?.trim() ?? '')}, expected ${JSON.stringify(opts.app)}); nothing was removed` };
}

export async function remove(deps: Deps, opts: { app: string; volumes?: boolean; only?: HostFilter }): Promise<RemoveOutcome[]> {
  const project = await loadProject(deps.root);
  const app = findApp(project, opts.app);
  if (app.config.cluster) return clusterRemove(deps, project, app, opts);
  const out: RemoveOutcome[] = [];
  for (const hn of filterHosts(app, project.hosts, opts.only)) {
    const h = hostHandle(hn, project.hosts[hn]!);
    await ensureContext(deps.runner, h);
    // The lock keeps a deploy from racing the removal; its directory goes with the app's state.
    await acquireLock(deps.runner, h.ssh, lockDir(app.name), `remove ${app.name}`, { host: hn, app: app.name, now: deps.now() });
    const end = deps.log.step(`${hn}: remove ${app.name}`);
    const un = await deps.runner.run(parityScripts.unroute(h.ssh, dynamicConfigFile(app.name), `${traefikService(app.name)}@file`, appDir(app.name)), { allowFailure: true });
    if (un.exitCode !== 0) throw new StepError('remove', `Traefik still routes ${app.name} after its route file was deleted; nothing else was removed`, { app: app.name, host: hn });
    await dropMaintenance(deps, h, app);
    const target = { context: h.context, project: appProject(app.name), files: [] };
    await deps.runner.run(write(composeArgv(target, ['down', '--remove-orphans', '-t', String(app.config.deploy.stop_timeout_seconds), ...(opts.volumes ? ['--volumes'] : [])])));
    const certs = originCertHostFiles(app.name);
    await deps.runner.run(parityScripts.forget(h.ssh, [appDir(app.name), appSecretsDir(app.name), certs.cert, certs.key]));
    end();
    out.push({ host: hn, volumes: !!opts.volumes, keptBackups: backupsDir(app.name) });
  }
  return out;
}
