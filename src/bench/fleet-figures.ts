// Figures of the fleet scenarios (PURE): the three-host / one-host deploy ratio, and the memory
// readings taken from /proc (the Berth CLI) and `docker stats` (the edge containers).
import { median } from './stats.ts';

/** median(numerator) / median(denominator); undefined when either side has no finite value or the denominator is 0. */
export function ratioOfMedians(numerator: readonly number[], denominator: readonly number[]): number | undefined {
  const a = median(numerator.filter(Number.isFinite));
  const b = median(denominator.filter(Number.isFinite));
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return undefined;
  return a / b;
}

const UNIT_MIB: Record<string, number> = {
  b: 1 / 2 ** 20, kib: 1 / 1024, mib: 1, gib: 1024, tib: 2 ** 20,
  kb: 1e3 / 2 ** 20, mb: 1e6 / 2 ** 20, gb: 1e9 / 2 ** 20, tb: 1e12 / 2 ** 20,
};

/** `docker stats` MemUsage ("21.48MiB / 23.54GiB", "512KiB / 1GiB", "0B / 0B") → MiB used; undefined when unreadable. */
export function parseMemUsageMiB(memUsage: string): number | undefined {
  const m = /^\s*([\d.]+)\s*([A-Za-z]+)\s*(?:\/|$)/.exec(memUsage);
  const factor = m ? UNIT_MIB[m[2]!.toLowerCase()] : undefined;
  if (!m || factor === undefined) return undefined;
  const v = Number(m[1]);
  return Number.isFinite(v) ? v * factor : undefined;
}

/**
 * Lines `<container id>\t<compose service>\t<MemUsage>` (docker ps joined with docker stats) →
 * MiB per service; lines that do not parse are left out.
 */
export function parseServiceMemory(out: string): Record<string, number> {
  const res: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const [, service, usage] = line.split('\t');
    const mib = usage === undefined ? undefined : parseMemUsageMiB(usage);
    if (service && mib !== undefined) res[service] = mib;
  }
  return res;
}

/** /proc/<pid>/status → VmHWM (the process's peak resident set) in MiB; undefined when absent (a kernel thread, a zombie). */
export function vmHwmMiB(status: string): number | undefined {
  const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) / 1024 : undefined;
}

/** /proc/<pid>/stat → the parent pid (the command name may hold spaces and parentheses: parse after the last ')'). */
export function parsePpid(stat: string): number | undefined {
  const rest = stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/);
  const ppid = Number(rest[1]);
  return stat.includes(')') && Number.isInteger(ppid) ? ppid : undefined;
}

/** Every descendant of `root` (children, grandchildren…) in a pid → parent pid table. */
export function descendantsOf(root: number, parents: ReadonlyMap<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const out: number[] = [];
  const todo = [...(children.get(root) ?? [])];
  while (todo.length) {
    const pid = todo.shift()!;
    if (out.includes(pid)) continue;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}
