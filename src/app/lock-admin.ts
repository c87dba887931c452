// `npm run lock -- status|release <app>`: who holds an app's deploy lock on each host, and releasing
// a lock left behind (Kamal's `kamal lock status/release`).
import { loadProject } from '../config/load.ts';
import { filterHosts, type HostFilter } from '../config/host-filter.ts';
import { stateHostsOf } from '../config/cluster-rules.ts';
import { parityScripts } from '../exec/parity-scripts.ts';
import type { Holder } from '../exec/lock.ts';
import { lockDir } from '../names.ts';
import { findApp } from './app-context.ts';
import type { Deps } from './deps.ts';
import { ensureContext, hostHandle } from './host.ts';

export interface LockRow {
  host: string;
  app: string;
  held: boolean;
  holder?: Partial<Holder>;
  /** Seconds since the holder's last heartbeat. */
  idleSeconds?: number;
}

/** Pure: the status script's output → a row. */
export function parseLockStatus(host: string, app: string, out: string): LockRow {
  const [first = '', ...rest] = out.trim().split('\n');
  const m = /^held (\d+)$/.exec(first.trim());
  if (!m) return { host, app, held: false };
  let holder: Partial<Holder> = {};
  try {
    holder = JSON.parse(rest.join('\n')) as Holder;
  } catch {
    /* unreadable holder file */
  }
  return { host, app, held: true, holder, idleSeconds: Number(m[1]) };
}

/** Run `fn` on each host of the app (narrowed by --hosts/--roles), one after another. */
async function onAppHosts(deps: Deps, opts: { app: string; only?: HostFilter }, fn: (hn: string, h: ReturnType<typeof hostHandle>, app: string) => Promise<LockRow>): Promise<LockRow[]> {
  const project = await loadProject(deps.root);
  const app = findApp(project, opts.app);
  const rows: LockRow[] = [];
  for (const hn of stateHostsOf(project, app, () => filterHosts(app, project.hosts, opts.only))) {
    const h = hostHandle(hn, project.hosts[hn]!);
    await ensureContext(deps.runner, h);
    rows.push(await fn(hn, h, app.name));
  }
  return rows;
}

export const lockStatus = (deps: Deps, opts: { app: string; only?: HostFilter }): Promise<LockRow[]> =>
  onAppHosts(deps, opts, async (hn, h, app) => parseLockStatus(hn, app, (await deps.runner.run(parityScripts.lockStatus(h.ssh, lockDir(app)))).stdout));

export const lockRelease = (deps: Deps, opts: { app: string; only?: HostFilter }): Promise<LockRow[]> =>
  onAppHosts(deps, opts, async (hn, h, app) => {
    const out = (await deps.runner.run(parityScripts.lockForceRelease(h.ssh, lockDir(app)))).stdout.trim();
    return out === 'free' ? { host: hn, app, held: false } : parseLockStatus(hn, app, `held 0\n${out}`);
  });

export function formatLocks(rows: LockRow[], verb: 'status' | 'release'): string {
  return rows
    .map((r) => {
      if (!r.held) return `${r.host}: ${r.app} ${verb === 'release' ? 'was not locked' : 'is not locked'}`;
      const who = r.holder?.user ? `${r.holder.user}@${r.holder.machine} pid ${r.holder.pid} "${r.holder.command}" since ${r.holder.since}` : 'an unreadable holder';
      return verb === 'release' ? `${r.host}: released ${r.app}'s lock (held by ${who})` : `${r.host}: ${r.app} locked by ${who} (last heartbeat ${r.idleSeconds}s ago)`;
    })
    .join('\n');
}
