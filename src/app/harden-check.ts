// `berth setup <host> --harden --check`: compare each host with what `--harden` sets (UFW rules and
// policy, DOCKER-USER, sshd settings, the fail2ban jail) without changing anything on it. Only
// one read-only script runs over SSH; no Docker context, network or edge is touched.
import { loadProject } from '../config/load.ts';
import { requireHost } from '../config/host-filter.ts';
import { ConfigError, StepError } from '../errors.ts';
import { hostScripts } from '../exec/host-scripts.ts';
import { DRIFT_EXIT, renderHardeningCheck } from '../plan/render-hardening.ts';
import { accessoryOpenings } from '../plan/placement.ts';
import { accessoryOpeningIssues } from '../config/rules.ts';
import type { Deps } from './deps.ts';
import { hostHandle } from './host.ts';
import { swarmPeers } from './setup.ts';

export interface HardeningCheck {
  host: string;
  /** true when every check passed. */
  ok: boolean;
  /** One line per check: `ok <what>` or `drift <what>: <found>`. */
  lines: string[];
}

export async function checkHardening(deps: Deps, opts: { host?: string }): Promise<HardeningCheck[]> {
  const project = await loadProject(deps.root);
  const names = opts.host ? [opts.host] : Object.keys(project.hosts);
  for (const n of names) requireHost(project.hosts, n);
  const unknown = names.flatMap((n) => accessoryOpeningIssues(project, n));
  if (unknown.length) throw new ConfigError(unknown);
  const out: HardeningCheck[] = [];
  for (const n of names) {
    const h = hostHandle(n, project.hosts[n]!);
    const end = deps.log.step(`${n}: check hardening`);
    const r = await deps.runner.run(hostScripts.run(h.ssh, renderHardeningCheck(h.config, accessoryOpenings(project.apps, project.hosts, n), { swarmPeers: swarmPeers(project, n) }), [], false), { allowFailure: true });
    const lines = r.stdout.split('\n').filter((l) => /^(ok|drift) /.test(l));
    if (r.exitCode !== 0 && r.exitCode !== DRIFT_EXIT) {
      throw new StepError('harden --check', `the check could not run (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim()}`, { host: n });
    }
    out.push({ host: n, ok: r.exitCode === 0, lines });
    end(r.exitCode === 0 ? 'as set by --harden' : `${lines.filter((l) => l.startsWith('drift')).length} differences`);
  }
  return out;
}
