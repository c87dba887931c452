// `npm run details`: the edge on every host as Traefik itself reports it (version, routers and the
// servers behind them, through its API over SSH), the certificate each routed domain serves, and
// with --logs the edge's recent log lines.
import { loadProject } from '../config/load.ts';
import { requireHost } from '../config/host-filter.ts';
import { compose } from '../docker/argv.ts';
import { parityScripts } from '../exec/parity-scripts.ts';
import { EDGE_PROJECT, TRAEFIK_SERVICE } from '../names.ts';
import { parseEdgeApi, summariseEdge, type EdgeSummary } from '../plan/edge-details.ts';
import type { Deps } from './deps.ts';
import { ensureContext, hostHandle } from './host.ts';
import { peerCertificate } from './ops.ts';
import { placeApp } from '../plan/placement.ts';
import { clusterEdgesOf } from '../config/cluster-rules.ts';

export interface HostDetails extends EdgeSummary {
  host: string;
  certificates: { app: string; domain: string; expires?: string; issuer?: string; error?: string }[];
}

export async function details(deps: Deps, opts: { host?: string; certs?: boolean }): Promise<HostDetails[]> {
  const project = await loadProject(deps.root);
  const names = opts.host ? [opts.host] : Object.keys(project.hosts).sort();
  const out: HostDetails[] = [];
  for (const hn of names) {
    const cfg = project.hosts[requireHost(project.hosts, hn)]!;
    const h = hostHandle(hn, cfg);
    await ensureContext(deps.runner, h);
    // Routes exist where the app's web runs (a host with only its workers or accessories has none), and on a cluster app's edges.
    const apps = project.apps.filter((a) => (a.config.cluster ? clusterEdgesOf(project, a) : placeApp(a, project.hosts).web).includes(hn));
    const r = await deps.runner.run(parityScripts.edgeDetails(h.ssh), { allowFailure: true });
    const summary = summariseEdge(parseEdgeApi(r.stdout), apps.map((a) => a.name));
    const certificates: HostDetails['certificates'] = [];
    if (opts.certs !== false) {
      for (const a of apps) {
        if (a.config.tls.mode === 'none') continue;
        for (const d of a.config.domains) certificates.push({ app: a.name, domain: d, ...(await peerCertificate(cfg.public_ip ?? h.ssh.address, 443, d)) });
      }
    }
    out.push({ host: hn, ...summary, certificates });
  }
  return out;
}

export function formatDetails(rows: HostDetails[]): string {
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(`${r.host}: ${r.reachable ? `Traefik ${r.version ?? '?'}` : "Traefik's API is unreachable (is the edge up? npm run setup)"}`);
    for (const x of r.routes) {
      lines.push(`  ${x.app ?? '(not an app)'}  ${x.router}  ${x.status}  ${x.rule}  [${x.entryPoints.join(',')}]  tls: ${x.tls}  → ${x.servers.join(', ') || '(no servers)'}`);
    }
    for (const c of r.certificates) lines.push(`  certificate ${c.domain}: ${c.error ? `error: ${c.error}` : `issuer ${c.issuer || '?'}, expires ${c.expires ?? '?'}`}`);
  }
  return lines.join('\n');
}

/** The edge's Traefik logs on one host. */
export async function edgeLogs(deps: Deps, opts: { host?: string; tail?: number; follow?: boolean }) {
  const project = await loadProject(deps.root);
  const hn = opts.host ?? Object.keys(project.hosts).sort()[0]!;
  const cfg = project.hosts[requireHost(project.hosts, hn)]!;
  const h = hostHandle(hn, cfg);
  await ensureContext(deps.runner, h);
  return deps.runner.run(compose.logs({ context: h.context, project: EDGE_PROJECT, files: [] }, [TRAEFIK_SERVICE], opts.tail ?? 100, opts.follow), { interactive: true });
}
