// Audit trail use cases: append an entry for a deploy/rollback/restore on a host (never failing
// the command it records), and `npm run history -- <app>` to read it back per host.
import { hostname, userInfo } from 'node:os';
import { loadProject } from '../config/load.ts';
import { placeApp } from '../plan/placement.ts';
import { stateHostsOf } from '../config/cluster-rules.ts';
import { type HistoryEntry, historyScripts, parseHistory } from '../exec/history.ts';
import { historyFile } from '../names.ts';
import { findApp } from './app-context.ts';
import type { Deps } from './deps.ts';
import { ensureContext, type HostHandle, hostHandle } from './host.ts';

export const operator = () => ({ user: safe(() => userInfo().username, 'unknown'), machine: hostname() });

const safe = <T>(fn: () => T, fallback: T) => {
  try {
    return fn();
  } catch {
    return fallback;
  }
};

export type NewEntry = Omit<HistoryEntry, 'at' | 'user' | 'machine' | 'host' | 'app'>;

/** The whole entry: when, where, who, then what. */
export const historyEntry = (deps: Deps, h: HostHandle, app: string, e: NewEntry): HistoryEntry => ({ at: deps.now().toISOString(), app, host: h.name, ...operator(), ...e });

/** Append one entry; a failure to record is a warning, never the command's outcome. */
export async function recordHistory(deps: Deps, h: HostHandle, app: string, e: NewEntry): Promise<void> {
  const entry = historyEntry(deps, h, app, e);
  try {
    const r = await deps.runner.run(historyScripts.append(h.ssh, historyFile(app), entry), { allowFailure: true });
    if (r.exitCode !== 0) deps.log.warn(`${h.name}: could not append to ${historyFile(app)} (exit ${r.exitCode})`);
  } catch (err) {
    deps.log.warn(`${h.name}: could not append to ${historyFile(app)}: ${(err as Error).message}`);
  }
}

export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 2000);

export async function history(deps: Deps, opts: { app: string }): Promise<{ host: string; entries: HistoryEntry[] }[]> {
  const project = await loadProject(deps.root);
  const app = findApp(project, opts.app);
  const out = [];
  for (const name of stateHostsOf(project, app, () => placeApp(app, project.hosts).hosts)) {
    const h = hostHandle(name, project.hosts[name]!);
    await ensureContext(deps.runner, h);
    const r = await deps.runner.run(historyScripts.read(h.ssh, historyFile(app.name)));
    out.push({ host: name, entries: parseHistory(r.stdout) });
  }
  return out;
}
