// Path routing, request limits and timeouts in the rendered Traefik config (pure), and the router
// priorities checked against a small model of Traefik's matching (highest priority among the
// routers whose rule matches), so that no app's route can shadow another's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { appRoutes, renderRouting } from '../../src/plan/render-routing.ts';
import { makeApp } from './plan-fixtures.ts';
import { matches, pick, type Router } from './traefik-match.ts';

type Routing = {
  http: {
    routers: Record<string, Router>;
    middlewares?: Record<string, Record<string, unknown>>;
    serversTransports?: Record<string, { forwardingTimeouts: { responseHeaderTimeout: string } }>;
    services: Record<string, { loadBalancer: { servers: { url: string }[]; serversTransport?: string } }>;
  };
};
const parse = (s: string) => YAML.parse(s) as Routing;
const base = { image: 'example/app', hosts: ['h1'], domains: ['example.com'] };
const render = (name: string, over: Record<string, unknown> = {}) => parse(renderRouting(makeApp(name, { ...base, ...over }), 'blue'));

describe('path routing', () => {
  it('a prefix matches itself and below, never a longer name; stripped by default', () => {
    const r = render('blog', { path_prefix: '/blog' });
    const https = r.http.routers['blog-https']!;
    assert.equal(https.rule, 'Host(`example.com`) && (Path(`/blog`) || PathPrefix(`/blog/`))');
    assert.deepEqual(https.middlewares, ['blog-strip-prefix']);
    assert.deepEqual(r.http.middlewares!['blog-strip-prefix'], { stripPrefix: { prefixes: ['/blog'] } });
    for (const [path, hit] of [['/blog', true], ['/blog/', true], ['/blog/a/b', true], ['/blogger', false], ['/', false]] as const) {
      assert.equal(matches(https.rule, { host: 'example.com', path }), hit, path);
    }
    // The HTTP router redirects the same paths to HTTPS.
    assert.equal(r.http.routers['blog-http']!.rule, https.rule);
    assert.deepEqual(r.http.routers['blog-http']!.middlewares, ['blog-redirect-https']);
  });

  it('strip_path_prefix: false forwards the full path', () => {
    const r = render('api', { path_prefix: '/api', strip_path_prefix: false });
    assert.equal(r.http.routers['api-https']!.middlewares, undefined);
    assert.equal(r.http.middlewares?.['api-strip-prefix'], undefined);
  });

  it('several prefixes: one router and one strip per prefix (a shared strip would cut "/blog" off "/blog2/x")', () => {
    const r = render('docs', { path_prefix: ['/docs', '/docs2'], domains: ['example.com', 'example.org'], tls: { mode: 'none' } });
    assert.deepEqual(Object.keys(r.http.routers), ['docs-http', 'docs-http-2']);
    assert.equal(r.http.routers['docs-http-2']!.rule, '(Host(`example.com`) || Host(`example.org`)) && (Path(`/docs2`) || PathPrefix(`/docs2/`))');
    assert.deepEqual(r.http.routers['docs-http-2']!.middlewares, ['docs-strip-prefix-2']);
    assert.deepEqual(r.http.middlewares!['docs-strip-prefix-2'], { stripPrefix: { prefixes: ['/docs2'] } });
  });

  it('the www redirect runs before the strip, on the full URL', () => {
    const r = render('blog', { path_prefix: '/blog', www: 'redirect-to-apex' });
    assert.deepEqual(r.http.routers['blog-https']!.middlewares, ['blog-redirect-www', 'blog-strip-prefix']);
  });

  it('a prefix that could break out of the rule is refused even past validation', () => {
    const app = makeApp('evil', { ...base, path_prefix: '/ok' });
    app.config.path_prefix = '/a`) || Host(`evil.com';
    assert.throws(() => renderRouting(app, 'blue'), /not a path prefix, refused in a Traefik rule/);
  });
});

describe('priorities: no route of one app shadows another', () => {
  const apps = [
    makeApp('site', { ...base, domains: ['example.com', '*.example.com'], tls: { mode: 'acme', resolver: 'letsencrypt' } }),
    makeApp('blog', { ...base, path_prefix: '/blog' }),
    makeApp('admin', { ...base, path_prefix: ['/blog/admin', '/admin'] }),
    makeApp('shop', { ...base, domains: ['shop.example.com'] }),
    makeApp('shopapi', { ...base, domains: ['*.example.com'], path_prefix: '/api' }),
  ];
  const routers = Object.assign({}, ...apps.map((a) => parse(renderRouting(a, 'blue')).http.routers)) as Record<string, Router>;
  const cases: [string, string, string][] = [
    ['example.com', '/', 'site-https'],
    ['example.com', '/blogger', 'site-https'],
    ['example.com', '/blog', 'blog-https'],
    ['example.com', '/blog/post/1', 'blog-https'],
    ['example.com', '/blog/admin/x', 'admin-https'],
    ['example.com', '/admin', 'admin-https-2'],
    ['shop.example.com', '/', 'shop-https'],
    ['shop.example.com', '/api/x', 'shop-https'], // a named host beats a wildcard, whatever the prefixes
    ['x.example.com', '/api', 'shopapi-https'],
    ['x.example.com', '/', 'site-https-wildcard'],
  ];
  for (const [host, path, want] of cases) {
    it(`${host}${path} → ${want}`, () => assert.equal(pick(routers, 'websecure', { host, path }), want));
  }

  it('named hosts and wildcards of one app are separate routes (a named host always beats a wildcard)', () => {
    const site = appRoutes(apps[0]!);
    assert.deepEqual(site.map((r) => [r.suffix, r.rule]), [
      ['', 'Host(`example.com`)'],
      ['-wildcard', 'HostRegexp(`^[a-z0-9-]+\\.example\\.com$`)'],
    ]);
    assert.ok(site[0]!.priority > site[1]!.priority);
  });
});

describe('request limits and timeouts', () => {
  it('buffering with a body limit renders Traefik\'s buffering middleware on the serving routers only', () => {
    const r = render('up', { buffering: { requests: true, responses: true, max_request_body: '64k', memory: 32768 } });
    assert.deepEqual(r.http.middlewares!['up-buffering'], {
      buffering: { maxRequestBodyBytes: 65536, memRequestBodyBytes: 32768, memResponseBodyBytes: 32768 },
    });
    assert.deepEqual(r.http.routers['up-https']!.middlewares, ['up-buffering']);
    assert.deepEqual(r.http.routers['up-http']!.middlewares, ['up-redirect-https'], 'the redirect needs no buffering');
    const none = render('up', { tls: { mode: 'none' }, buffering: { requests: true, responses: true, max_response_body: '1m' } });
    assert.deepEqual(none.http.routers['up-http']!.middlewares, ['up-buffering']);
    assert.equal((none.http.middlewares!['up-buffering']!.buffering as Record<string, number>).maxResponseBodyBytes, 1048576);
  });

  it('no buffering by default (streamed responses stay streamed)', () => {
    const r = render('up');
    assert.equal(r.http.middlewares?.['up-buffering'], undefined);
    assert.equal(r.http.routers['up-https']!.middlewares, undefined);
  });

  it('response timeout: 30s by default (as Kamal), configurable, "0s" for none', () => {
    const d = render('up');
    assert.deepEqual(d.http.serversTransports, { 'up-transport': { forwardingTimeouts: { responseHeaderTimeout: '30s' } } });
    assert.equal(d.http.services.up!.loadBalancer.serversTransport, 'up-transport');
    assert.equal(render('up', { response_timeout: '2s' }).http.serversTransports!['up-transport']!.forwardingTimeouts.responseHeaderTimeout, '2s');
    const off = render('up', { response_timeout: '0s' });
    assert.equal(off.http.serversTransports, undefined);
    assert.equal(off.http.services.up!.loadBalancer.serversTransport, undefined);
  });
});
