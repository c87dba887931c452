// DNS-01 with Cloudflare and wildcard domains: validation and rendering (pure).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { renderEdge, durationSeconds } from '../../src/plan/render-edge.ts';
import { renderRouting } from '../../src/plan/render-routing.ts';
import { edgeData, linesOf, rawProject, valid } from '../fixtures/config/project.ts';

const web = (over: Record<string, unknown> = {}) => ({ image: 'ghcr.io/acme/app', hosts: ['h1'], ...over });
const cf = (over: Record<string, unknown> = {}) => ({ challenge: 'dns-01', provider: 'cloudflare', token_secret: 'CF_DNS_API_TOKEN', ...over });
const edgeWith = (resolvers: Record<string, unknown>) => ({ acme: { email: 'ops@example.com', resolvers } });

describe('wildcard domains', () => {
  it('are accepted with a DNS-01 resolver', () => {
    const p = valid(rawProject({ a: web({ domains: ['*.example.com', 'example.com'], tls: { mode: 'acme', resolver: 'cloudflare' } }) }));
    assert.deepEqual(p.apps[0]!.config.domains, ['*.example.com', 'example.com']);
  });

  it('are refused with HTTP-01, naming the file, the key and the fix', () => {
    assert.deepEqual(linesOf(rawProject({ a: web({ domains: ['example.com', '*.example.com'] }) })), [
      'apps/a/app.yml: domains[1]: expected a wildcard domain only with a DNS-01 resolver (tls.resolver), got "*.example.com" with tls.resolver "letsencrypt" (http-01); set tls.resolver to a DNS-01 resolver (cloudflare), or list the names one by one',
    ]);
  });

  it('are refused with TLS-ALPN-01, and the fix says to define a DNS-01 resolver when there is none', () => {
    const raw = rawProject({ a: web({ domains: ['*.example.com'], tls: { mode: 'acme', resolver: 'alpn' } }) }, {
      edge: { file: 'shared/edge.yml', data: edgeWith({ alpn: { challenge: 'tls-alpn-01' } }) },
    });
    assert.deepEqual(linesOf(raw), [
      'apps/a/app.yml: domains[0]: expected a wildcard domain only with a DNS-01 resolver (tls.resolver), got "*.example.com" with tls.resolver "alpn" (tls-alpn-01); define a dns-01 resolver under acme.resolvers in shared/edge.yml and name it in tls.resolver, or list the names one by one',
    ]);
  });

  it('only one label: "*.*.x", "a.*.x" and "*x.com" are not domains', () => {
    for (const d of ['*.*.example.com', 'a.*.example.com', '*example.com', '*']) {
      assert.equal(linesOf(rawProject({ a: web({ domains: [d], tls: { mode: 'acme', resolver: 'cloudflare' } }) })).length, 1, d);
    }
  });

  it('route one label under the zone (HostRegexp), never www.*, and order one certificate for the wildcard', () => {
    const p = valid(rawProject({ a: web({ domains: ['*.example.com', 'example.com'], www: 'redirect-to-apex', tls: { mode: 'acme', resolver: 'cloudflare' } }) }));
    const r = YAML.parse(renderRouting(p.apps[0]!, 'blue'));
    // Named hosts and the wildcard are separate routers (a named host always wins over a wildcard),
    // both naming the one certificate.
    assert.equal(r.http.routers['a-https'].rule, 'Host(`example.com`) || Host(`www.example.com`)');
    const https = r.http.routers['a-https-wildcard'];
    assert.equal(https.rule, 'HostRegexp(`^[a-z0-9-]+\\.example\\.com$`)');
    for (const name of ['a-https', 'a-https-wildcard']) {
      assert.deepEqual(r.http.routers[name].tls, { certResolver: 'cloudflare', domains: [{ main: '*.example.com', sans: ['example.com', 'www.example.com'] }] });
    }
    // The www redirect only names the plain domain.
    assert.equal(r.http.middlewares['a-redirect-www'].redirectRegex.regex, '^https?://www\\.(example\\.com)(.*)$');
    const re = new RegExp(/HostRegexp\(`(.*?)`\)/.exec(https.rule)![1]!);
    assert.ok(re.test('x7.example.com'));
    assert.ok(!re.test('a.b.example.com') && !re.test('example.com') && !re.test('xexample.com'));
  });
});

describe('DNS-01 through Cloudflare', () => {
  it("renders lego's provider: token as a file, API URL, resolvers and propagation settings", () => {
    const p = valid(
      rawProject({}, {
        edge: {
          file: 'shared/edge.yml',
          data: edgeWith({
            dns: cf({
              api_base_url: 'http://cfmock/client/v4',
              resolvers: ['cfmock:53', '[2606:4700:4700::1111]:53'],
              propagation: { disable_ans_checks: true, delay_before_checks: '0s', timeout: '90s', polling_interval: '500ms' },
            }),
          }),
        },
      }),
    );
    const r = renderEdge(p);
    const compose = YAML.parse(r.files.find((f) => f.path === 'compose.yml')!.content);
    assert.deepEqual(compose.services.traefik.environment, {
      CF_DNS_API_TOKEN_FILE: '/run/secrets/CF_DNS_API_TOKEN',
      CLOUDFLARE_BASE_URL: 'http://cfmock/client/v4',
      CLOUDFLARE_POLLING_INTERVAL: '1',
      CLOUDFLARE_PROPAGATION_TIMEOUT: '90',
    });
    assert.deepEqual(compose.services.traefik.secrets, ['CF_DNS_API_TOKEN']);
    const st = YAML.parse(r.files.find((f) => f.path === 'traefik.yml')!.content);
    assert.deepEqual(st.certificatesResolvers.dns.acme.dnsChallenge, {
      provider: 'cloudflare',
      resolvers: ['cfmock:53', '[2606:4700:4700::1111]:53'],
      propagation: { disableANSChecks: true, delayBeforeChecks: '0s' },
    });
    assert.ok(!JSON.stringify(compose).includes('CF_DNS_API_TOKEN='), 'no token value in the environment');
  });

  it('durations become whole seconds for lego', () => {
    assert.deepEqual(['500ms', '1s', '90s', '2m', '1h'].map(durationSeconds), [1, 1, 90, 120, 3600]);
  });

  it('refuses resolvers that are not "address:port" and API URLs that could break out of the environment', () => {
    const raw = rawProject({}, {
      edge: { file: 'shared/edge.yml', data: edgeWith({ dns: cf({ resolvers: ['1.1.1.1', 'a b:53'], api_base_url: 'http://x/$(id)' }) }) },
    });
    const lines = linesOf(raw);
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('shared/edge.yml: acme.resolvers.dns.resolvers[0]: expected a DNS server "address:port"')));
    assert.ok(lines.some((l) => l.startsWith('shared/edge.yml: acme.resolvers.dns.api_base_url: expected an http(s) URL')));
  });

  it('DNS-01 resolvers share one environment: disagreeing tokens or API URLs are refused', () => {
    const raw = rawProject({}, {
      edge: { file: 'shared/edge.yml', data: edgeWith({ a: cf(), b: cf({ token_secret: 'OTHER_TOKEN', api_base_url: 'http://x/client/v4' }) }) },
    });
    assert.deepEqual(linesOf(raw), [
      'shared/edge.yml: acme.resolvers.b.token_secret: expected the same value as acme.resolvers.a.token_secret ("CF_DNS_API_TOKEN"): DNS-01 resolvers share one Traefik environment, got "OTHER_TOKEN"; use one DNS-01 resolver, or give them the same value',
      'shared/edge.yml: acme.resolvers.b.api_base_url: expected the same value as acme.resolvers.a.api_base_url ("unset"): DNS-01 resolvers share one Traefik environment, got "http://x/client/v4"; use one DNS-01 resolver, or give them the same value',
    ]);
    valid(rawProject({}, { edge: { file: 'shared/edge.yml', data: { ...edgeData() } } }));
  });
});
