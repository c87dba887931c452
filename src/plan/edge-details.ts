// PURE: what Traefik's API reports on one host (version, routers, services), summarised per app
// (Kamal's `proxy details`). Routers and services Berth writes are "<app>-…@file" / "<app>@file".
import { traefikService } from '../names.ts';

export interface EdgeApi {
  version: { Version?: string; Codename?: string; startDate?: string } | null;
  routers: { name: string; provider?: string; rule?: string; service?: string; status?: string; entryPoints?: string[]; tls?: { certResolver?: string }; middlewares?: string[] }[] | null;
  services: { name: string; provider?: string; status?: string; loadBalancer?: { servers?: { url: string }[] }; serverStatus?: Record<string, string> }[] | null;
}

export interface EdgeRoute {
  app: string | undefined;
  router: string;
  rule: string;
  entryPoints: string[];
  status: string;
  tls: string;
  service: string;
  servers: string[];
}

export interface EdgeSummary {
  reachable: boolean;
  version?: string;
  routes: EdgeRoute[];
}

/** Parse the host script's JSON line; anything unparsable reads as "API unreachable". */
export function parseEdgeApi(text: string): EdgeApi {
  try {
    const v = JSON.parse(text.trim().split('\n').pop() ?? '') as EdgeApi;
    return { version: v.version ?? null, routers: Array.isArray(v.routers) ? v.routers : null, services: Array.isArray(v.services) ? v.services : null };
  } catch {
    return { version: null, routers: null, services: null };
  }
}

/** Routes of the file provider (Berth's), each attributed to one of `apps` by name; sorted. */
export function summariseEdge(api: EdgeApi, apps: readonly string[]): EdgeSummary {
  if (!api.version && !api.routers) return { reachable: false, routes: [] };
  const byPrefix = [...apps].sort((a, b) => traefikService(b).length - traefikService(a).length);
  const owner = (name: string) => byPrefix.find((a) => name === traefikService(a) || name.startsWith(`${traefikService(a)}-`) || name.startsWith(`${traefikService(a)}_`));
  const services = new Map((api.services ?? []).map((s) => [s.name, s]));
  const routes = (api.routers ?? [])
    .filter((r) => r.provider === 'file' || r.name.endsWith('@file'))
    .map((r) => {
      const base = r.name.replace(/@file$/, '');
      const svcName = r.service ? (r.service.includes('@') ? r.service : `${r.service}@file`) : '';
      const svc = services.get(svcName);
      return {
        app: owner(base),
        router: base,
        rule: r.rule ?? '',
        entryPoints: r.entryPoints ?? [],
        status: r.status ?? '?',
        tls: r.tls ? (r.tls.certResolver ? `acme (${r.tls.certResolver})` : 'certificate') : '-',
        service: svcName.replace(/@file$/, ''),
        servers: (svc?.loadBalancer?.servers ?? []).map((s) => `${s.url}${svc?.serverStatus?.[s.url] ? ` ${svc.serverStatus[s.url]}` : ''}`),
      };
    })
    .sort((a, b) => {
      const [x, y] = [a.app ?? '~', b.app ?? '~'];
      return x !== y ? (x < y ? -1 : 1) : a.router < b.router ? -1 : a.router > b.router ? 1 : 0;
    });
  return { reachable: true, version: api.version?.Version, routes };
}
