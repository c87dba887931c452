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
import { routedDomains } from './app-facts.ts';
import { generatedHeader, toYaml } from './yaml.ts';

/** Router and middleware names, all prefixed by the app's Traefik name. */
export const routerNames = (app: string) => {
  const p = traefikService(app);
  return {
    https: `${p}-https`,
    http: `${p}-http`,
    redirectHttps: `${p}-redirect-https`,
    redirectWww: `${p}-redirect-www`,
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

export function renderRouting(app: App, colour: Colour): string {
  const c = app.config;
  const names = routerNames(app.name);
  const service = traefikService(app.name);
  const hosts = routedDomains(c);
  const rule = hostRule(hosts);
  const www = wwwRedirect(app);

  const routers: Record<string, unknown> = {};
  const middlewares: Record<string, unknown> = {};
  if (www) middlewares[names.redirectWww] = www;

  if (hosts.length) {
    if (c.tls.mode === 'none') {
      // Plain HTTP at the origin (e.g. Cloudflare "Flexible"): the web entry point serves the app.
      routers[names.http] = {
        rule,
        entryPoints: [ENTRYPOINT.web],
        ...(www ? { middlewares: [names.redirectWww] } : {}),
        service,
      };
    } else {
      middlewares[names.redirectHttps] = { redirectScheme: { scheme: 'https', permanent: true } };
      const tls: Record<string, unknown> =
        c.tls.mode === 'acme'
          ? { certResolver: c.tls.resolver, domains: [{ main: hosts[0], ...(hosts.length > 1 ? { sans: hosts.slice(1) } : {}) }] }
          : {};
      routers[names.https] = {
        rule,
        entryPoints: [ENTRYPOINT.websecure],
        ...(www ? { middlewares: [names.redirectWww] } : {}),
        service,
        tls,
      };
      routers[names.http] = {
        rule,
        entryPoints: [ENTRYPOINT.web],
        middlewares: [...(www ? [names.redirectWww] : []), names.redirectHttps],
        service,
      };
    }
  }

  const http: Record<string, unknown> = { routers };
  if (Object.keys(middlewares).length) http.middlewares = Object.fromEntries(Object.keys(middlewares).sort().map((k) => [k, middlewares[k]]));
  http.services = {
    [service]: {
      loadBalancer: {
        servers: [{ url: `http://${webAlias(app.name, colour)}:${c.port}` }],
        passHostHeader: true,
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
