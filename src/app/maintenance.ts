// `berth maintenance <app> [--message …]` and `berth live <app>` (Kamal's `app maintenance` / `live`):
// on every host of the app, under the app's lock, every route of the app is switched to a page
// server answering 503 with the app's own 503.html (error_pages_path, from the app folder or the
// live image) or a plain default, confirmed through Traefik's API like a deploy's switch; `live`
// switches back the same way. The app's own route file is never touched, so a deploy during
// maintenance keeps it (and re-renders the maintenance routes when the app's routes changed).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadProject } from '../config/load.ts';
import { filterHosts, type HostFilter } from '../config/host-filter.ts';
import type { App, Project } from '../config/schema.ts';
import { placeApp } from '../plan/placement.ts';
import { StepError } from '../errors.ts';
import { hostScripts, observeAppPart, thenOutput } from '../exec/host-scripts.ts';
import { acquireLock } from '../exec/lock.ts';
import { maintenanceParts, maintenanceScripts } from '../exec/maintenance-scripts.ts';
import { type AppState, parseObservation } from '../exec/state.ts';
import { type MemoryEntry, packUpload } from '../exec/transfer.ts';
import {
  appDir,
  dynamicConfigFile,
  lockDir,
  maintenanceDir,
  maintenanceProject,
  maintenanceRouteFile,
  maintenanceStateFile,
  maintenanceTraefikName,
} from '../names.ts';
import {
  MAX_PAGE_BYTES,
  type MaintenanceRecord,
  maintenanceRouterNames,
  renderMaintenanceCompose,
  renderMaintenanceHaproxy,
  renderMaintenancePage,
  renderMaintenanceRouting,
  routesHash,
} from '../plan/render-maintenance.ts';
import { findApp } from './app-context.ts';
import { audited } from './audit.ts';
import type { Deps } from './deps.ts';
import { operator } from './history.ts';
import { type HostHandle, hostHandle, prepareSsh } from './host.ts';

export interface MaintenanceOutcome {
  host: string;
  /** changed: switched now; noop: it already was (live: not in maintenance). */
  result: 'changed' | 'noop';
  mode: 'maintenance' | 'live';
  /** ms from the route's rename to Traefik's confirmation, measured on the host. */
  switchMs?: number;
  /** Epoch ms when the switch was confirmed (load tests compare request start times). */
  switchedAt?: number;
  since?: string;
  message?: string;
  /** Where the page came from. */
  page?: string;
  detail?: string;
}

/** The app's own 503.html from its folder (error_pages_path relative), when there is one. */
async function folderPage(app: App): Promise<{ template?: string; source: string }> {
  const p = app.config.error_pages_path;
  if (!p || p.startsWith('/')) return { source: 'default' };
  const file = join(app.dir, p, '503.html');
  const template = await readFile(file, 'utf8').catch(() => undefined);
  return template === undefined ? { source: `default (no ${join(p, '503.html')} in ${app.file.replace(/\/[^/]*$/, '')})` } : { template, source: `${join(p, '503.html')} from the app folder` };
}

/** The 503.html inside the image the host runs for the app (error_pages_path absolute). */
async function imagePage(deps: Deps, h: HostHandle, app: App, state: AppState): Promise<{ template?: string; source: string }> {
  const path = app.config.error_pages_path!;
  const image = state.releases.find((r) => r.id === state.current?.release)?.image;
  if (!image) return { source: `default (${app.name} is not deployed on ${h.name}: no image to read ${path}/503.html from)` };
  const r = await deps.runner.run(maintenanceScripts.imagePage(h.ssh, image, path), { allowFailure: true });
  return r.exitCode === 0 && r.stdout ? { template: r.stdout, source: `${path}/503.html from ${image}` } : { source: `default (no ${path}/503.html in ${image})` };
}

/** The app's hosts that serve its web (placement), narrowed by --hosts/--roles: only they have routes. */
const webHosts = (project: Project, app: App, only?: HostFilter) => {
  const web = placeApp(app, project.hosts).web;
  return filterHosts(app, project.hosts, only).filter((h) => web.includes(h));
};

async function perHost<T>(hosts: string[], what: string, app: string, fn: (name: string) => Promise<T>): Promise<T[]> {
  const settled = await Promise.allSettled(hosts.map(fn));
  const failed = hosts.filter((_, i) => settled[i]!.status === 'rejected');
  if (!failed.length) return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  const reasons = failed.map((h) => `${h}: ${((settled[hosts.indexOf(h)] as PromiseRejectedResult).reason as Error).message.split('\n')[0]}`);
  const done = hosts.filter((h) => !failed.includes(h));
  throw new StepError(what, `${app}: ${what} failed on ${failed.join(', ')}${done.length ? ` (done on ${done.join(', ')})` : ''}:\n${reasons.join('\n')}\nRerun the command: it converges.`, { app });
}

export async function maintenance(deps: Deps, opts: { app: string; message?: string; only?: HostFilter }): Promise<MaintenanceOutcome[]> {
  const project = await loadProject(deps.root);
  const app = findApp(project, opts.app);
  if (!app.config.domains.length) throw new StepError('maintenance', `${app.name} has no domains in ${app.file}: nothing is routed to it, so there is nothing to answer 503 for`);
  const routing = renderMaintenanceRouting(app);
  const routers = maintenanceRouterNames(app);
  const compose = renderMaintenanceCompose(project, app);
  const local = await folderPage(app);
  const who = operator();
  return perHost(webHosts(project, app, opts.only), 'maintenance', app.name, async (name) => {
    const h = hostHandle(name, project.hosts[name]!);
    await prepareSsh(deps.runner, h);
    const detail = opts.message ? `message: ${opts.message}` : undefined;
    return audited(deps, h, app.name, 'maintenance', [], { ...(detail ? { detail } : {}) }, async (): Promise<MaintenanceOutcome> => {
      const observe = observeAppPart(appDir(app.name), app.name, { route: dynamicConfigFile(app.name) });
      const lock = await acquireLock(deps.runner, h.ssh, lockDir(app.name), `maintenance ${app.name}`, { host: name, app: app.name, now: deps.now(), then: observe });
      try {
        const state = parseObservation(lock.thenOutput ?? '');
        const { template, source } = app.config.error_pages_path?.startsWith('/') ? await imagePage(deps, h, app, state) : local;
        const page = renderMaintenancePage(template, opts.message);
        const bytes = Buffer.byteLength(page);
        if (bytes > MAX_PAGE_BYTES) {
          throw new StepError('maintenance', `the maintenance page (${source}) is ${bytes} bytes, more than ${MAX_PAGE_BYTES}: keep 503.html small (link images and styles instead of inlining them); nothing was changed`);
        }
        const record: MaintenanceRecord = { since: state.maintenance?.since ?? deps.now().toISOString(), ...(opts.message ? { message: opts.message } : {}), by: `${who.user}@${who.machine}`, routes: routesHash(routing) };
        const dir = maintenanceDir(app.name);
        const files: MemoryEntry[] = [
          { path: dir, type: 'directory', mode: 0o755 },
          { path: `${dir}/compose.yml`, content: compose, mode: 0o644 },
          { path: `${dir}/haproxy.cfg`, content: renderMaintenanceHaproxy(bytes), mode: 0o644 },
          { path: `${dir}/503.html`, content: page, mode: 0o644 },
          { path: `${dir}/route.yml`, content: routing, mode: 0o644 },
        ];
        const on = maintenanceParts.on('on', dir, maintenanceProject(app.name), maintenanceRouteFile(app.name), maintenanceStateFile(app.name), JSON.stringify(record), routers);
        const r = await deps.runner.run(hostScripts.untar(h.ssh, on), { stdinStream: packUpload(undefined, undefined, files), allowFailure: true });
        if (r.dryRun) return { host: name, result: 'noop', mode: 'maintenance' };
        const out = thenOutput(r.stdout) ?? r.stdout;
        const m = /^confirmed (\d+)/m.exec(out);
        if (r.exitCode !== 0 || !m) throw new StepError('maintenance', `${name}: ${(out + r.stderr).trim().split('\n').slice(-5).join(' ') || `exit ${r.exitCode}`}; ${app.name} keeps serving as before`, { app: app.name, host: name });
        deps.log.info(`${name}: ${app.name} in maintenance (503 with ${source}), confirmed by Traefik in ${m[1]} ms`);
        return { host: name, result: 'changed', mode: 'maintenance', switchMs: Number(m[1]), switchedAt: Date.now(), since: record.since, message: opts.message, page: source, ...(detail ? { detail } : {}) };
      } finally {
        await lock.release();
      }
    });
  });
}

export async function live(deps: Deps, opts: { app: string; only?: HostFilter }): Promise<MaintenanceOutcome[]> {
  const project = await loadProject(deps.root);
  const app = findApp(project, opts.app);
  return perHost(webHosts(project, app, opts.only), 'live', app.name, async (name) => {
    const h = hostHandle(name, project.hosts[name]!);
    await prepareSsh(deps.runner, h);
    return audited(deps, h, app.name, 'live', [], {}, async (): Promise<MaintenanceOutcome> => {
      const lock = await acquireLock(deps.runner, h.ssh, lockDir(app.name), `live ${app.name}`, { host: name, app: app.name, now: deps.now() });
      try {
        const r = await deps.runner.run(maintenanceScripts.off(h.ssh, maintenanceDir(app.name), maintenanceProject(app.name), maintenanceRouteFile(app.name), maintenanceStateFile(app.name), maintenanceTraefikName(app.name)), { allowFailure: true });
        if (r.dryRun || /^not-in-maintenance/m.test(r.stdout)) {
          deps.log.info(`${name}: ${app.name} was not in maintenance`);
          return { host: name, result: 'noop', mode: 'live' };
        }
        const m = /^live (\d+)/m.exec(r.stdout);
        if (r.exitCode !== 0 || !m) throw new StepError('live', `${name}: ${(r.stdout + r.stderr).trim().split('\n').slice(-5).join(' ') || `exit ${r.exitCode}`}`, { app: app.name, host: name });
        deps.log.info(`${name}: ${app.name} live again, confirmed by Traefik in ${m[1]} ms`);
        return { host: name, result: 'changed', mode: 'live', switchMs: Number(m[1]), switchedAt: Date.now() };
      } finally {
        await lock.release();
      }
    });
  });
}

/**
 * A deploy while the app is in maintenance (called under the deploy's lock, before its switch): when
 * the app's routes changed (a domain or prefix added), the maintenance routes follow, so the new
 * release never serves a request before `live`.
 */
export async function keepMaintenance(deps: Deps, h: HostHandle, app: App, record: MaintenanceRecord): Promise<void> {
  const routing = renderMaintenanceRouting(app);
  const hash = routesHash(routing);
  if (record.routes === hash) return;
  const dir = maintenanceDir(app.name);
  const next: MaintenanceRecord = { ...record, routes: hash };
  const part = maintenanceParts.on('route', dir, maintenanceProject(app.name), maintenanceRouteFile(app.name), maintenanceStateFile(app.name), JSON.stringify(next), maintenanceRouterNames(app));
  const r = await deps.runner.run(hostScripts.untar(h.ssh, part), { stdinStream: packUpload(undefined, undefined, [{ path: `${dir}/route.yml`, content: routing, mode: 0o644 }]), allowFailure: true });
  if (r.dryRun) return;
  const out = thenOutput(r.stdout) ?? r.stdout;
  if (r.exitCode !== 0 || !/^confirmed \d+/m.test(out)) {
    throw new StepError('maintenance route', `${h.name}: ${app.name} is in maintenance and its routes changed, but Traefik did not take the new maintenance routes (${out.trim().split('\n').pop()}); nothing switched, the old release and the maintenance page stay`, { app: app.name, host: h.name });
  }
  deps.log.info(`${h.name}: ${app.name} stays in maintenance (its maintenance routes follow the new config)`);
}

/** Remove: maintenance goes with the app (route first, then the page server), under remove's lock. */
export async function dropMaintenance(deps: Deps, h: HostHandle, app: App): Promise<void> {
  const r = await deps.runner.run(maintenanceScripts.off(h.ssh, maintenanceDir(app.name), maintenanceProject(app.name), maintenanceRouteFile(app.name), maintenanceStateFile(app.name), maintenanceTraefikName(app.name)), { allowFailure: true });
  if (r.exitCode !== 0) throw new StepError('remove', `Traefik still routes ${app.name} to its maintenance page; nothing else was removed`, { app: app.name, host: h.name });
}
