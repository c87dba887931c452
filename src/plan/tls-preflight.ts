// Pre-flight before HTTP-01/TLS-ALPN-01 orders (PURE): every domain must resolve to the public
// address of each host that will order its certificate; otherwise the CA's validation fails and
// spends its failed-validation limit (Let's Encrypt: 5 per hour per account and name).
import { BlockList, isIP } from 'node:net';
import { CLOUDFLARE_RANGES } from '../config/cloudflare-ips.ts';
import { isWildcard } from '../config/rules.ts';
import type { App, EdgeConfig, HostConfig } from '../config/schema.ts';
import { routedDomains } from './app-facts.ts';

export interface PreflightTarget {
  host: string;
  /** hosts.json public_ip: where the domain's A/AAAA records must point. */
  address: string;
  domains: string[];
}

/** What a lookup found: the addresses, or why there are none. */
export type Lookup = { addresses: string[] } | { error: string };

export interface PreflightProblem {
  host: string;
  domain: string;
  message: string;
}

/** Domains that need the check on each host: HTTP-01/TLS-ALPN-01 apps on hosts with a public_ip. */
export function preflightTargets(app: App, edge: EdgeConfig, hosts: Record<string, HostConfig>, hostNames: string[]): { targets: PreflightTarget[]; skipped: string[] } {
  const tls = app.config.tls;
  if (edge.acme.preflight.check === 'off' || tls.mode !== 'acme') return { targets: [], skipped: [] };
  const r = edge.acme.resolvers[tls.resolver];
  if (!r || r.challenge === 'dns-01') return { targets: [], skipped: [] };
  const domains = routedDomains(app.config).filter((d) => !isWildcard(d));
  if (!domains.length) return { targets: [], skipped: [] };
  const targets: PreflightTarget[] = [];
  const skipped: string[] = [];
  for (const h of hostNames) {
    const ip = hosts[h]?.public_ip;
    if (ip && isIP(ip)) targets.push({ host: h, address: ip, domains });
    else skipped.push(h);
  }
  return { targets, skipped };
}

const cloudflare = (() => {
  const bl = new BlockList();
  for (const r of CLOUDFLARE_RANGES) {
    const [a, n] = r.split('/');
    bl.addSubnet(a!, Number(n), isIP(a!) === 6 ? 'ipv6' : 'ipv4');
  }
  return bl;
})();

const inCloudflare = (a: string) => isIP(a) !== 0 && cloudflare.check(a, isIP(a) === 6 ? 'ipv6' : 'ipv4');

/**
 * A domain passes on a host when its addresses include the host's public_ip, or when all of them
 * are Cloudflare's (proxied: Cloudflare forwards /.well-known/acme-challenge to the origin).
 */
export function evaluatePreflight(targets: PreflightTarget[], lookups: Record<string, Lookup>, edgeFile: string, hostsFile = 'hosts.json'): PreflightProblem[] {
  const problems: PreflightProblem[] = [];
  for (const t of targets) {
    for (const domain of t.domains) {
      const l = lookups[domain] ?? { error: 'not looked up' };
      const addrs = 'addresses' in l ? l.addresses : [];
      if (addrs.includes(t.address)) continue;
      if (addrs.length && addrs.every(inCloudflare)) continue;
      const found = addrs.length ? addrs.join(', ') : `nothing (${'error' in l ? l.error : 'no A/AAAA record'})`;
      problems.push({
        host: t.host,
        domain,
        message:
          `${domain} resolves to ${found}, but it should resolve to ${t.address} (${t.host}, ${hostsFile}: hosts.${t.host}.public_ip) before its first certificate order: ` +
          `HTTP-01 validation would fail and spend the CA's failed-validation limit. Point an A/AAAA record for ${domain} at ${t.address} ` +
          `(or proxy it through Cloudflare), or set acme.preflight.check: warn in ${edgeFile}`,
      });
    }
  }
  return problems;
}
