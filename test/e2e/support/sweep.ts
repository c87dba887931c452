// Before a lane's files run: take off its machines every app an earlier run left behind. A run that
// was killed (CI stopped, a developer's ^C) never reaches its `after` hooks, and its randomly named
// apps keep running with 1-s health checks and backup loops, starving every later run on this
// 2-core machine. The lane's lock is held, so nothing of this run is on those machines yet; the
// shared edge (berth-edge) and what setup installed stay.
import { execFileSync } from 'node:child_process';
import { EDGE_PROJECT } from '../../../src/names.ts';
import { hostSpec } from '../../../src/sandbox/config.ts';
import { resetAppScript } from './project.ts';

/** An app name as the label holds it; anything else is left alone rather than put in a shell line. */
const SAFE_APP = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The shell script that lists what is left on one host (apps by label, stacks on a manager). */
export const LIST_LEFTOVERS = [
  'command -v docker >/dev/null || exit 0',
  `docker ps -a --filter label=berth.app --format 'app {{.Label "berth.app"}}'`,
  `docker ps -a --filter label=berth.maintenance --format 'maintenance {{.ID}}'`,
  `[ "$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ] && docker stack ls --format 'stack {{.Name}}' || true`,
].join('\n');

/** What to remove, from the listing: app names, page-server containers and stacks (never the edge). */
export function leftovers(listing: string): { apps: string[]; containers: string[]; stacks: string[] } {
  const apps = new Set<string>();
  const containers = new Set<string>();
  const stacks = new Set<string>();
  for (const line of listing.split('\n')) {
    const [kind, value = ''] = line.trim().split(/\s+/, 2);
    if (kind === 'app' && SAFE_APP.test(value)) apps.add(value);
    else if (kind === 'maintenance' && /^[0-9a-f]{12,64}$/.test(value)) containers.add(value);
    else if (kind === 'stack' && /^berth-[a-z0-9_-]+$/.test(value) && value !== EDGE_PROJECT) stacks.add(value);
  }
  return { apps: [...apps].sort(), containers: [...containers].sort(), stacks: [...stacks].sort() };
}

function ssh(host: string, script: string): string {
  const h = hostSpec(host);
  return execFileSync('ssh', ['-p', String(h.sshPort), '-o', 'ConnectTimeout=10', `${h.sshUser}@${h.sshHost}`, script], { encoding: 'utf8', timeout: 180_000 });
}

/** Remove every leftover app on these hosts; returns one line per host that had any. */
export function sweepHosts(hosts: readonly string[]): string[] {
  const report: string[] = [];
  for (const host of hosts) {
    const found = leftovers(ssh(host, LIST_LEFTOVERS));
    if (!found.apps.length && !found.containers.length && !found.stacks.length) continue;
    const script = [
      // Stacks first: Swarm would start a removed task's container again.
      ...found.stacks.map((s) => `docker stack rm ${s} >/dev/null`),
      ...(found.containers.length ? [`docker rm -f ${found.containers.join(' ')} >/dev/null`] : []),
      ...found.apps.map(resetAppScript),
    ].join('; ');
    ssh(host, script);
    report.push(`${host}: removed ${[...found.stacks.map((s) => `stack ${s}`), ...found.apps].join(', ') || `${found.containers.length} page server(s)`}`);
  }
  return report;
}
