import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import { diffLines } from '../../src/plan/diff.ts';
import { renderRouting } from '../../src/plan/render-routing.ts';
import { makeApp } from './plan-fixtures.ts';

type Routing = {
  http: {
    routers: Record<string, { rule: string; entryPoints: string[]; middlewares?: string[]; service: string; tls?: { certResolver?: string; domains?: { main: string; sans?: string[] }[] } }>;
    middlewares?: Record<string, { redirectRegex?: { regex: string; replacement: string; permanent: boolean }; redirectScheme?: { scheme: string; permanent: boolean } }>;
    services: Record<string, { loadBalancer: { servers: { url: string }[]; passHostHeader: boolean; serversTransport?: string } }>;
  };
  tls?: { certificates: { certFile: string; keyFile: string }[] };
};

const parse = (s: string) => YAML.parse(s) as Routing;
const base = { image: 'example/app', hosts: ['h1'], domains: ['example.com', 'example.org'], port: 3000 };

test('a colour switch changes only the server URL', () => {
  const app = makeApp('shop_app', base);
  const blue = renderRouting(app, 'blue');
  const green = renderRouting(app, 'green');
  // Apart from the header comment (which names the colour), one line differs: the server URL.
  const body = (s: string) => s.split('\n').filter((l) => !l.startsWith('#'));
  const diff = diffLines(body(blue).join('\n'), body(green).join('\n')).filter((d) => d.op !== ' ');
  assert.deepEqual(diff, [
    { op: '-', line: '          - url: http://shop-app-web-blue:3000' },
    { op: '+', line: '          - url: http://shop-app-web-green:3000' },
  ]);
  const g = parse(green);
  assert.deepEqual(g.http.services['shop-app'], { loadBalancer: { servers: [{ url: 'http://shop-app-web-green:3000' }], passHostHeader: true, serversTransport: 'shop-app-transport' } });
});

test('acme: HTTPS router with resolver and domains, HTTP router redirects permanently', () => {
  const r = parse(renderRouting(makeApp('shop', { ...base, tls: { mode: 'acme', resolver: 'letsencrypt' } }), 'blue'));
  const https = r.http.routers['shop-https']!;
  assert.equal(https.rule, 'Host(`example.com`) || Host(`example.org`)');
  assert.deepEqual(https.entryPoints, ['websecure']);
  assert.deepEqual(https.tls, { certResolver: 'letsencrypt', domains: [{ main: 'example.com', sans: ['example.org'] }] });
  const http = r.http.routers['shop-http']!;
  assert.deepEqual(http.entryPoints, ['web']);
  assert.deepEqual(http.middlewares, ['shop-redirect-https']);
  assert.deepEqual(r.http.middlewares!['shop-redirect-https'], { redirectScheme: { scheme: 'https', permanent: true } });
  assert.equal(r.tls, undefined);
});

test('tls none: only an HTTP router, serving the app (TLS terminated in front)', () => {
  const r = parse(renderRouting(makeApp('shop', { ...base, tls: { mode: 'none' } }), 'blue'));
  assert.deepEqual(Object.keys(r.http.routers), ['shop-http']);
  assert.equal(r.http.routers['shop-http']!.middlewares, undefined);
  assert.equal(r.http.routers['shop-http']!.service, 'shop');
  assert.equal(r.http.middlewares, undefined);
});

test('origin-certificate: HTTPS without resolver, certificate files under /etc/traefik/certs', () => {
  const r = parse(renderRouting(makeApp('shop', { ...base, tls: { mode: 'origin-certificate', cert_file: 'origin.pem', key_secret: 'ORIGIN_KEY' } }), 'blue'));
  assert.deepEqual(r.http.routers['shop-https']!.tls, {});
  assert.deepEqual(r.tls, { certificates: [{ certFile: '/etc/traefik/certs/shop.crt', keyFile: '/etc/traefik/certs/shop.key' }] });
  assert.deepEqual(r.http.routers['shop-http']!.middlewares, ['shop-redirect-https']);
});

const regexOf = (r: Routing, app: string) => r.http.middlewares?.[`${app}-redirect-www`]?.redirectRegex;
/** Apply a Traefik redirectRegex the way Traefik does (Go regexp replacement with ${n}). */
const apply = (rx: { regex: string; replacement: string }, url: string) => {
  const m = new RegExp(rx.regex).exec(url);
  return m ? rx.replacement.replace(/\$\{(\d+)\}/g, (_, n: string) => m[Number(n)] ?? '') : undefined;
};

test('www modes', async (t) => {
  await t.test('none: no www hosts, no redirect', () => {
    const r = parse(renderRouting(makeApp('shop', { ...base, www: 'none' }), 'blue'));
    assert.doesNotMatch(r.http.routers['shop-https']!.rule, /www\./);
    assert.equal(regexOf(r, 'shop'), undefined);
  });
  await t.test('alias: www hosts routed and certified, no redirect', () => {
    const r = parse(renderRouting(makeApp('shop', { ...base, www: 'alias' }), 'blue'));
    assert.equal(r.http.routers['shop-https']!.rule, 'Host(`example.com`) || Host(`www.example.com`) || Host(`example.org`) || Host(`www.example.org`)');
    assert.deepEqual(r.http.routers['shop-https']!.tls!.domains, [{ main: 'example.com', sans: ['www.example.com', 'example.org', 'www.example.org'] }]);
    assert.equal(regexOf(r, 'shop'), undefined);
  });
  await t.test('redirect-to-apex', () => {
    const r = parse(renderRouting(makeApp('shop', { ...base, www: 'redirect-to-apex' }), 'blue'));
    const rx = regexOf(r, 'shop')!;
    assert.equal(rx.permanent, true);
    assert.equal(apply(rx, 'https://www.example.com/a?b=1'), 'https://example.com/a?b=1');
    assert.equal(apply(rx, 'http://www.example.org/'), 'https://example.org/');
    assert.equal(apply(rx, 'https://example.com/a'), undefined);
    // The HTTP router redirects www straight to the HTTPS apex (one hop), then to HTTPS.
    assert.deepEqual(r.http.routers['shop-http']!.middlewares, ['shop-redirect-www', 'shop-redirect-https']);
    assert.deepEqual(r.http.routers['shop-https']!.middlewares, ['shop-redirect-www']);
  });
  await t.test('redirect-to-www', () => {
    const r = parse(renderRouting(makeApp('shop', { ...base, www: 'redirect-to-www' }), 'blue'));
    const rx = regexOf(r, 'shop')!;
    assert.equal(apply(rx, 'https://example.com/a'), 'https://www.example.com/a');
    assert.equal(apply(rx, 'http://example.org'), 'https://www.example.org');
    assert.equal(apply(rx, 'https://www.example.com/a'), undefined);
  });
  await t.test('redirect with tls none keeps the scheme', () => {
    const r = parse(renderRouting(makeApp('shop', { ...base, www: 'redirect-to-apex', tls: { mode: 'none' } }), 'blue'));
    const rx = regexOf(r, 'shop')!;
    assert.equal(apply(rx, 'http://www.example.com/x'), 'http://example.com/x');
    assert.deepEqual(r.http.routers['shop-http']!.middlewares, ['shop-redirect-www']);
  });
});

test('an app without domains has a service but no routers', () => {
  const r = parse(renderRouting(makeApp('worker_only', { image: 'x/y', hosts: ['h1'] }), 'green'));
  assert.deepEqual(r.http.routers, {});
  assert.equal(r.http.services['worker-only']!.loadBalancer.servers[0]!.url, 'http://worker-only-web-green:80');
});

test('a domain that is not a DNS name never reaches a Traefik rule, even past validation', () => {
  const app = makeApp('evil', { ...base, tls: { mode: 'none' } });
  app.config.domains = ['a.example.com`) || Host(`b.example.com']; // bypasses the schema on purpose
  assert.throws(() => renderRouting(app, 'blue'), /not a DNS name, refused in a Traefik rule/);
});
