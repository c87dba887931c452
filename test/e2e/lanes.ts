// End-to-end lanes: each lane owns its sandbox machines, so lanes run side by side (test/run-e2e.ts)
// while the files inside one lane run one after another. A file joins a lane by its name's prefix;
// everything else is the main lane (h1–h3). A lane never touches another lane's machines: reboots,
// firewalls, a swarm or a reset host stay inside it.

export interface Lane {
  name: string;
  /** The machines this lane's tests use (src/sandbox/config.ts brings them all up). */
  hosts: string[];
  /** File-name prefixes (under test/e2e/) that belong to this lane. */
  prefixes: string[];
  /**
   * Files run last, in this order: they count failed requests under load, and by then the other
   * lanes (their Docker installs, Rails boots and swarm drills) have finished, so a starved 2-core
   * machine is not what they measure.
   */
  late?: string[];
}

export const LANES: readonly Lane[] = [
  { name: 'topology', hosts: ['h4', 'h5', 'h6'], prefixes: ['topology'] },
  { name: 'swarm', hosts: ['h7', 'h8', 'h9'], prefixes: ['swarm'] },
  // Images and releases: build paths and release bookkeeping moved here from main, the long pole.
  { name: 'transfer', hosts: ['h10', 'h11'], prefixes: ['transfer', 'build', 'releases'] },
  // Edge options and the CLI; the Rails stand-in's file too (moved from main, the long pole).
  { name: 'edge', hosts: ['h12'], prefixes: ['edge-', 'cli-', 'rails'] },
  // A fresh server: setup installs Docker, --harden locks it down (h1 only knocks on it from outside).
  { name: 'fresh', hosts: ['h13'], prefixes: ['setup', 'hardening'] },
  // Backups and restores (Litestream, pg_dump, the Rails databases), and a host's dockerd restart and
  // reboot with a replicated app: moved here from main, the long pole.
  { name: 'data', hosts: ['h14'], prefixes: ['backup', 'host-faults'] },
  { name: 'main', hosts: ['h1', 'h2', 'h3'], prefixes: [], late: ['faults.test.ts', 'fleet.test.ts', 'zero-downtime.test.ts', 'deploy.test.ts'] },
];

/** The lane a test file (path or base name) belongs to. */
export function laneOf(file: string): Lane {
  const base = file.split('/').pop()!;
  return LANES.find((l) => l.prefixes.some((p) => base.startsWith(p))) ?? LANES.find((l) => l.name === 'main')!;
}

/** A lane's files in the order they run: alphabetical, then its late files in their own order. */
export function laneOrder(lane: Lane, files: string[]): string[] {
  const late = lane.late ?? [];
  const rank = (f: string) => late.indexOf(f.split('/').pop()!);
  return [...files].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The lock file a lane's run holds, so two checkouts on one machine never share a lane's hosts at once. */
export const laneLockFile = (lane: string) => `/tmp/berth-lane-${lane}.lock`;
