// Peak resident memory of a child process tree, read from /proc while it runs (Linux, nothing to
// install): every `intervalMs` the Node processes among the root pid and its descendants are found
// (parent pids from /proc/<pid>/stat) and their VmHWM — the kernel's own peak RSS, so a peak between
// two polls is not missed — is kept. Other programs in the tree (ssh, docker, esbuild) are not counted.
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { descendantsOf, parsePpid, vmHwmMiB } from './fleet-figures.ts';

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process exited between the listing and the read
  }
};

function parentTable(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    const ppid = stat === undefined ? undefined : parsePpid(stat);
    if (ppid !== undefined) parents.set(Number(name), ppid);
  }
  return parents;
}

export interface PeakRss {
  /** Largest VmHWM seen of a Node process in the tree (MiB); undefined if none was seen. */
  peakMiB: number | undefined;
  /** pid → its last VmHWM (MiB). */
  byPid: Record<number, number>;
}

export function watchPeakRss(rootPid: number, intervalMs = 50): { stop(): PeakRss } {
  const node = realpathSync(process.execPath);
  const byPid: Record<number, number> = {};
  const poll = () => {
    for (const pid of [rootPid, ...descendantsOf(rootPid, parentTable())]) {
      let exe: string;
      try {
        exe = readlinkSync(`/proc/${pid}/exe`);
      } catch {
        continue;
      }
      if (exe !== node) continue; // ssh, docker, esbuild, a shell: their own programs, not Berth's
      const status = read(`/proc/${pid}/status`);
      const mib = status === undefined ? undefined : vmHwmMiB(status);
      if (mib !== undefined) byPid[pid] = Math.max(byPid[pid] ?? 0, mib);
    }
  };
  poll();
  const timer = setInterval(poll, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const values = Object.values(byPid);
      return { peakMiB: values.length ? Math.max(...values) : undefined, byPid };
    },
  };
}
