// Cloudflare modes and trusted client-IP sources (pure).
import assert from 'node:assert/strict';
import { BlockList, isIP } from 'node:net';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { CLOUDFLARE_IPS_TAKEN, CLOUDFLARE_IPV4, CLOUDFLARE_IPV6 } from '../../src/config/cloudflare-ips.ts';
import { renderTraefikStatic } from '../../src/plan/render-edge.ts';
import { renderRouting } from '../../src/plan/render-routing.ts';
import { edgeData, linesOf, rawProject, valid } from '../fixtures/config/project.ts';

const web = (over: Record<string, unknown> = {}) => ({ image: 'ghcr.io/acme/app', hosts: ['h1'], domains: ['example.com'], ...over });
const edge = (trusted_ips: unknown) => ({ file: 'shared/edge.yml', data: { ...edgeData(), trusted_ips } });

describe("Cloudflare's ranges as trusted forwarded-header sources", () => {
  it('the data file holds IPv4 and IPv6 ranges, each valid, with the date they were taken', () => {
    assert.match(CLOUDFLARE_IPS_TAKEN, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(CLOUDFLARE_IPV4.length >= 10 && CLOUDFLARE_IPV6.length >= 5);
    for (const r of CLOUDFLARE_IPV4) assert.equal(isIP(r.split('/')[0]!), 4, r);
    for (const r of CLOUDFLARE_IPV6) assert.equal(isIP(r.split('/')[0]!), 6, r);
  });

  it('"cloudflare" expands into both families on every public entry point, next to extra ranges', () => {
    const p = valid(rawProject({}, { edge: edge(['cloudflare', '172.30.0.0/24']) }));
    const st = YAML.parse(renderTraefikStatic(p.edge));
    for (const ep of ['web', 'websecure']) {
      const t: string[] = st.entryPoints[ep].forwardedHeaders.trustedIPs;
      assert.deepEqual(t, [...CLOUDFLARE_IPV4, ...CLOUDFLARE_IPV6, '172.30.0.0/24']);
    }
    assert.equal(st.entryPoints.traefik.forwardedHeaders, undefined);
    // What Traefik will trust: a Cloudflare edge address in each family, and nothing else.
    const bl = new BlockList();
    for (const r of st.entryPoints.web.forwardedHeaders.trustedIPs as string[]) {
      const [a, n] = r.split('/');
      bl.addSubnet(a!, Number(n), isIP(a!) === 6 ? 'ipv6' : 'ipv4');
    }
    assert.ok(bl.check('104.16.1.1', 'ipv4') && bl.check('2606:4700::1', 'ipv6'));
    assert.ok(!bl.check('203.0.113.7', 'ipv4') && !bl.check('2001:db8::1', 'ipv6'));
  });

  it('no trusted_ips: no forwarded headers trusted', () => {
    const st = YAML.parse(renderTraefikStatic(valid(rawProject({})).edge));
    assert.equal(st.entryPoints.web.forwardedHeaders, undefined);
  });

  it('refuses entries that are neither a CIDR range nor "cloudflare"', () => {
    const lines = linesOf(rawProject({}, { edge: edge(['cloudfare', '10.0.0.0/33', '2400:cb00::/129', '1.2.3.4']) }));
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.ok(lines.every((l) => l.startsWith('shared/edge.yml: trusted_ips[')), lines.join('\n'));
  });
});

describe('Cloudflare SSL modes at the origin', () => {
  const routers = (tls: unknown) => YAML.parse(renderRouting(valid(rawProject({ a: web({ tls }) })).apps[0]!, 'blue')).http.routers;

  it('Flexible (tls: none): plain HTTP at the origin, no HTTPS router, no redirect', () => {
    const r = routers({ mode: 'none' });
    assert.deepEqual(Object.keys(r), ['a-http']);
    assert.equal(r['a-http'].middlewares, undefined);
  });

  it("Full (tls: self-signed): HTTPS with Traefik's own certificate, no ACME order", () => {
    const r = routers({ mode: 'self-signed' });
    assert.deepEqual(r['a-https'].tls, {});
    assert.deepEqual(r['a-http'].middlewares, ['a-redirect-https']);
  });

  it('Full strict (tls: origin-certificate): the uploaded certificate', () => {
    const p = valid(rawProject({ a: web({ secrets: ['K'], tls: { mode: 'origin-certificate', cert_file: 'o.pem', key_secret: 'K' } }) }));
    const doc = YAML.parse(renderRouting(p.apps[0]!, 'blue'));
    assert.deepEqual(doc.http.routers['a-https'].tls, {});
    assert.deepEqual(doc.tls.certificates, [{ certFile: '/etc/traefik/certs/a.crt', keyFile: '/etc/traefik/certs/a.key' }]);
  });
});
