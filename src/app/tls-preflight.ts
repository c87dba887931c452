// Pre-flight before HTTP-01/TLS-ALPN-01 orders: resolve each domain (through acme.preflight.dns_server
// or the system resolver) and compare with the hosts' public_ip. Runs before anything on a host changes.
import { Resolver } from 'node:dns/promises';
import type { App, Project } from '../config/schema.ts';
import { StepError } from '../errors.ts';
import { EDGE_CONFIG_FILE } from '../plan/app-facts.ts';
import { evaluatePreflight, preflightTargets, type Lookup } from '../plan/tls-preflight.ts';
import type { Deps } from './deps.ts';

export async function lookupDomain(domain: string, dnsServer?: string, timeoutMs = 3000): Promise<Lookup> {
  const r = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (dnsServer) r.setServers([dnsServer]);
  const [v4, v6] = await Promise.allSettled([r.resolve4(domain), r.resolve6(domain)]);
  const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  if (addresses.length) return { addresses };
  const err = v4.status === 'rejected' ? (v4.reason as NodeJS.ErrnoException).code ?? String(v4.reason) : 'no A/AAAA record';
  return { error: err };
}

export async function tlsPreflight(deps: Deps, project: Project, app: App, hostNames: string[]): Promise<void> {
  const { targets, skipped } = preflightTargets(app, project.edge, project.hosts, hostNames);
  if (skipped.length) {
    deps.log.info(`tls pre-flight: skipped on ${skipped.join(', ')} (no public_ip in hosts.json to compare DNS with)`);
  }
  if (!targets.length) return;
  const end = deps.log.step('tls pre-flight');
  const server = project.edge.acme.preflight.dns_server;
  const domains = [...new Set(targets.flatMap((t) => t.domains))];
  const lookups: Record<string, Lookup> = {};
  await Promise.all(domains.map(async (d) => (lookups[d] = await lookupDomain(d, server))));
  const problems = evaluatePreflight(targets, lookups, EDGE_CONFIG_FILE);
  end(problems.length ? `${problems.length} problem(s)` : `${domains.length} domain(s) resolve to their hosts`);
  if (!problems.length) return;
  const text = problems.map((p) => `  ${p.message}`).join('\n');
  if (project.edge.acme.preflight.check === 'warn') {
    deps.log.warn(`tls pre-flight (acme.preflight.check: warn):\n${text}`);
    return;
  }
  throw new StepError('tls pre-flight', `nothing was changed on any host:\n${text}`, { app: app.name });
}
