// Traefik file-provider dynamic config of one app, one file per colour (PURE). The two files
// differ only in the server URL, so a switch is "write the other file over dynamic/<app>.yml".
import type { App } from '../config/schema.ts';
import {
  type Colour,
  traefikService,
  webAlias,
  ENTRYPOINT,
  originCertTraefikFiles,
} from '../names.ts';
import { bytesOf, EDGE_DEFAULTS, pathPrefixes, routedDomains } from './app-facts.ts';
import { generatedHeader, toYaml } from './yaml.ts';

/** Router and middleware names, all prefixed by the app's Traefik name. */
export const routerNames = (app: string) => {
  const p = traefikService(app);
  return {
    https: `${p}-https`,
    http: `${p}-http`,
    redirectHttps: `${p}-redirect-https`,
    redirectWww: `${p}-redirect-www`,
    strip: `${p}-strip-prefix`,
    buffering: `${p}-buffering`,
    transport: `${p}-transport`,
  };
};

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Host(`a`) || Host(`b`); a wildcard "*.x" matches exactly one label under x (Traefik v3 Host() has no
 * wildcards). Config validation admits DNS names only; a backtick here would end the rule's string.
 */
export const hostRule = (hosts: string[]) =>
  hosts
    .map((h) => {
      if (!/^(\*\.)?[a-z0-9.-]+$/.test(h)) throw new Error(`not a DNS name, refused in a Traefik rule: ${JSON.stringify(h)}`);
      return h.startsWith('*.') ? `HostRegexp(\`^[a-z0-9-]+\\.${escapeRegex(h.slice(2))}$\`)` : `Host(\`${h}\`)`;
    })
    .join(' || ');

/** redirectRegex middleware for the www setting, or undefined when www is not redirected. */
export function wwwRedirect(app: App): Record<string, unknown> | undefined {
  const c = app.config;
  if (c.www !== 'redirect-to-apex' && c.www !== 'redirect-to-www') return undefined;
  const named = c.domains.filter((d) => !d.startsWith('*.'));
  if (!named.length) return undefined;
  const alt = named.map(escapeRegex).join('|');
  // With TLS at the origin the target is always https (one hop from http://www.x to https://x);
  // with tls none the request's scheme is kept (the TLS terminator in front decides).
  const https = c.tls.mode !== 'none';
  const scheme = https ? '' : '(https?)';
  const target = (host: string) => (https ? `https://${host}` : `\${1}://${host}`);
  const n = https ? 0 : 1;
  if (c.www === 'redirect-to-apex') {
    return {
      redirectRegex: {
        regex: `^${https ? 'https?' : scheme}://www\\.(${alt})(.*)$`,
        replacement: target(`\${${n + 1}}\${${n + 2}}`),
        permanent: true,
      },
    };
  }
  return {
    redirectRegex: {
      regex: `^${https ? 'https?' : scheme}://(${alt})(.*)$`,
      replacement: target(`www.\${${n + 1}}\${${n + 2}}`),
      permanent: true,
    },
  };
}

/**
 * Router priorities: Traefik tries the highest first. A named host beats a wildcard (shop.x before
 * *.x), a longer path prefix beats a shorter one (/blog/admin before /blog before the whole domain),
 * and an app's maintenance routes sit just above its own routes, below any longer prefix of another
 * app, so maintenance never shadows a neighbour. Two routes of different apps can only tie when they
 * claim the same host and prefix, which config validation refuses (rules.ts uniqueDomains).
 */
export const ROUTE_PRIORITY = { namedHosts: 2_000_000, wildcardHosts: 1_000_000, perPrefixChar: 10, maintenance: 5 } as const;

/** One serving route of an app: hosts of one kind (names or wildcards) under one path prefix. */
export interface AppRoute {
  /** Appended to router and middleware names: "" for the first route, "-wildcard", "-2"… */
  suffix: string;
  rule: string;
  priority: number;
  prefix?: string;
  /** Index of the prefix in path_prefix (names the strip middleware). */
  prefixIndex: number;
}

const PREFIX = /^(\/[A-Za-z0-9._~-]+)+$/;

/** `Path(\`/p\`) || PathPrefix(\`/p/\`)`: the prefix itself and below, never "/pages" for "/p". */
export function prefixRule(prefix: string): string {
  if (!PREFIX.test(prefix)) throw new Error(`not a path prefix, refused in a Traefik rule: ${JSON.stringify(prefix)}`);
  return `Path(\`${prefix}\`) || PathPrefix(\`${prefix}/\`)`;
}

/** The app's routes: one per kind of host (named, wildcard) and path prefix, each with its priority. */
export function appRoutes(app: App): AppRoute[] {
  const hosts = routedDomains(app.config);
  const named = hosts.filter((h) => !h.startsWith('*.'));
  const wild = hosts.filter((h) => h.startsWith('*.'));
  const prefixes: (string | undefined)[] = pathPrefixes(app.config);
  if (!prefixes.length) prefixes.push(undefined);
  const routes: AppRoute[] = [];
  for (const [group, isWild] of [[named, false], [wild, true]] as const) {
    if (!group.length) continue;
    prefixes.forEach((prefix, i) => {
      const host = hostRule(group);
      const rule = prefix ? `${group.length > 1 ? `(${host})` : host} && (${prefixRule(prefix)})` : host;
      routes.push({
        suffix: `${isWild && named.length ? '-wildcard' : ''}${i > 0 ? `-${i + 1}` : ''}`,
        rule,
        priority: (isWild ? ROUTE_PRIORITY.wildcardHosts : ROUTE_PRIORITY.namedHosts) + ROUTE_PRIORITY.perPrefixChar * (prefix?.length ?? 0),
        prefix,
        prefixIndex: i,
      });
    });
  }
  return routes;
}

/** The https router's tls section: every router of an app names the same certificate (ordered once). */
export function routerTls(app: App): Record<string, unknown> {
  const c = app.config;
  const hosts = routedDomains(c);
  return c.tls.mode === 'acme'
    ? { certResolver: c.tls.resolver, domains: [{ main: hosts[0], ...(hosts.length > 1 ? { sans: hosts.slice(1) } : {}) }] }
    : {};
}

/** Traefik's buffering middleware for the app's buffering settings (undefined: not buffered). */
export function bufferingMiddleware(app: App): Record<string, unknown> | undefined {
  const b = app.config.buffering;
  if (!b || (!b.requests && !b.responses)) return undefined;
  const mem = bytesOf(b.memory);
  const maxReq = bytesOf(b.max_request_body);
  const maxRes = bytesOf(b.max_response_body);
  return {
    buffering: {
      ...(maxReq ? { maxRequestBodyBytes: maxReq } : {}),
      memRequestBodyBytes: mem,
      ...(maxRes ? { maxResponseBodyBytes: maxRes } : {}),
      memResponseBodyBytes: mem,
    },
  };
}

/** The response timeout (responseHeaderTimeout of the app's servers transport); undefined for "0s". */
export function responseTimeout(app: App): string | undefined {
  const t = app.config.response_timeout ?? EDGE_DEFAULTS.responseTimeout;
  return /^0+(ms|s|m|h)$/.test(t) ? undefined : t;
}

export function renderRouting(app: App, colour: Colour): string {
  const c = app.config;
  const names = routerNames(app.name);
  const service = traefikService(app.name);
  const www = wwwRedirect(app);
  const buffering = bufferingMiddleware(app);
  const strip = c.strip_path_prefix ?? EDGE_DEFAULTS.stripPathPrefix;

  const routers: Record<string, unknown> = {};
  const middlewares: Record<string, unknown> = {};
  if (www) middlewares[names.redirectWww] = www;
  if (buffering) middlewares[names.buffering] = buffering;
  if (c.tls.mode !== 'none' && routedDomains(c).length) middlewares[names.redirectHttps] = { redirectScheme: { scheme: 'https', permanent: true } };

  for (const route of appRoutes(app)) {
    // What the app's own traffic passes through: the www redirect first (on the full URL), then the
    // prefix strip, then buffering.
    const stripName = `${names.strip}${route.prefixIndex > 0 ? `-${route.prefixIndex + 1}` : ''}`;
    if (route.prefix && strip) middlewares[stripName] = { stripPrefix: { prefixes: [route.prefix] } };
    const serving = [...(www ? [names.redirectWww] : []), ...(route.prefix && strip ? [stripName] : []), ...(buffering ? [names.buffering] : [])];
    const mw = (list: string[]) => (list.length ? { middlewares: list } : {});
    if (c.tls.mode === 'none') {
      // Plain HTTP at the origin (e.g. Cloudflare "Flexible"): the web entry point serves the app.
      routers[`${names.http}${route.suffix}`] = { rule: route.rule, priority: route.priority, entryPoints: [ENTRYPOINT.web], ...mw(serving), service };
    } else {
      routers[`${names.https}${route.suffix}`] = { rule: route.rule, priority: route.priority, entryPoints: [ENTRYPOINT.websecure], ...mw(serving), service, tls: routerTls(app) };
      routers[`${names.http}${route.suffix}`] = {
        rule: route.rule,
        priority: route.priority,
        entryPoints: [ENTRYPOINT.web],
        middlewares: [...(www ? [names.redirectWww] : []), names.redirectHttps],
        service,
      };
    }
  }

  const http: Record<string, unknown> = { routers };
  if (Object.keys(middlewares).length) http.middlewares = Object.fromEntries(Object.keys(middlewares).sort().map((k) => [k, middlewares[k]]));
  const timeout = responseTimeout(app);
  if (timeout) http.serversTransports = { [names.transport]: { forwardingTimeouts: { responseHeaderTimeout: timeout } } };
  http.services = {
    [service]: {
      loadBalancer: {
        servers: [{ url: `http://${webAlias(app.name, colour)}:${c.port}` }],
        passHostHeader: true,
        ...(timeout ? { serversTransport: names.transport } : {}),
      },
    },
  };
  const doc: Record<string, unknown> = { http };
  if (c.tls.mode === 'origin-certificate') {
    const f = originCertTraefikFiles(app.name);
    doc.tls = { certificates: [{ certFile: f.cert, keyFile: f.key }] };
  }
  const header = generatedHeader(app.file, `Traefik dynamic config of ${app.name}, routing to the ${colour} colour.`);
  return toYaml(doc, header);
}
