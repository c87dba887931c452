// One certificate for the fleet (PURE): an app with a DNS-01 resolver on several hosts orders its
// certificate on one host (the issuer, first by name); Berth copies it to the others as a
// file-provider certificate before their route is written, and Traefik does not order a
// certificate for domains a stored one already covers. Only one order reaches the CA.
import type { App, EdgeConfig } from '../config/schema.ts';
import { fleetCertTraefikFiles } from '../names.ts';
import { routedDomains } from './app-facts.ts';
import { sha256 } from './hash.ts';
import { generatedHeader, toYaml } from './yaml.ts';

export interface FleetCertificate {
  issuer: string;
  others: string[];
  resolver: string;
  /** The names of the one certificate: main first (what the route's tls.domains orders). */
  domains: string[];
}

export function fleetCertificate(app: App, edge: EdgeConfig, hostNames: string[]): FleetCertificate | undefined {
  const tls = app.config.tls;
  if (tls.mode !== 'acme' || hostNames.length < 2) return undefined;
  if (edge.acme.resolvers[tls.resolver]?.challenge !== 'dns-01') return undefined;
  const domains = routedDomains(app.config);
  if (!domains.length) return undefined;
  const [issuer, ...others] = [...hostNames].sort();
  return { issuer: issuer!, others, resolver: tls.resolver, domains };
}

/** The certificate and key (PEM) Traefik stored in acme.json for exactly these domains, if any. */
export function findStoredCertificate(acmeJson: string, resolver: string, domains: string[]): { cert: string; key: string } | undefined {
  let doc: Record<string, { Certificates?: { domain?: { main?: string; sans?: string[] }; certificate?: string; key?: string }[] | null }>;
  try {
    doc = JSON.parse(acmeJson);
  } catch {
    return undefined;
  }
  const want = [...domains].sort().join(',');
  for (const c of doc?.[resolver]?.Certificates ?? []) {
    const names = [c.domain?.main ?? '', ...(c.domain?.sans ?? [])].filter(Boolean).sort().join(',');
    if (names !== want || !c.certificate || !c.key) continue;
    return { cert: Buffer.from(c.certificate, 'base64').toString('utf8'), key: Buffer.from(c.key, 'base64').toString('utf8') };
  }
  return undefined;
}

/**
 * dynamic/<app>.certificate.yml on the hosts that do not order: the issuer's certificate, by file. It
 * names the certificate's hash, so a renewed certificate changes this file and Traefik (which watches
 * dynamic/, not certs/) reloads it.
 */
export function renderFleetCertificate(app: App, certPem: string): string {
  const f = fleetCertTraefikFiles(app.name);
  return toYaml(
    { tls: { certificates: [{ certFile: f.cert, keyFile: f.key }] } },
    generatedHeader(app.file, `The certificate of ${app.name} (sha256 ${sha256(certPem).slice(0, 16)}), ordered once by its issuer host and copied here.`),
  );
}
