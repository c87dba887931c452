// Pre-flight before HTTP-01 (pure): which domains are checked where, and what the error says.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LETS_ENCRYPT, renderTraefikStatic } from '../../src/plan/render-edge.ts';
import { evaluatePreflight, preflightTargets } from '../../src/plan/tls-preflight.ts';
import YAML from 'yaml';
import { edgeData, hostsData, rawProject, valid } from '../fixtures/config/project.ts';

const web = (over: Record<string, unknown> = {}) => ({ image: 'ghcr.io/acme/app', hosts: ['h1', 'h2'], domains: ['example.com'], www: 'alias', ...over });
const withIps = () => {
  const h = hostsData();
  return { hosts: { ...h.hosts, h1: { ...h.hosts.h1, public_ip: '203.0.113.10' }, h2: { ...h.hosts.h2, public_ip: '2001:db8::11' } } };
};
const project = (app: Record<string, unknown>, edge: Record<string, unknown> = edgeData()) =>
  valid(rawProject({ a: app }, { hostsFile: { file: 'hosts.json', data: withIps() }, edge: { file: 'shared/edge.yml', data: edge } }));

describe('tls pre-flight', () => {
  it('checks every routed name of an HTTP-01 app on each host with a public_ip', () => {
    const p = project(web({ hosts: ['h1', 'h2', 'db'] }));
    const { targets, skipped } = preflightTargets(p.apps[0]!, p.edge, p.hosts, ['db', 'h1', 'h2']);
    assert.deepEqual(targets, [
      { host: 'h1', address: '203.0.113.10', domains: ['example.com', 'www.example.com'] },
      { host: 'h2', address: '2001:db8::11', domains: ['example.com', 'www.example.com'] },
    ]);
    assert.deepEqual(skipped, ['db']);
  });

  it('does not apply to DNS-01, origin certificates, plain HTTP, or when turned off', () => {
    const none = (app: Record<string, unknown>, edge?: Record<string, unknown>) => {
      const p = project(app, edge);
      return preflightTargets(p.apps[0]!, p.edge, p.hosts, ['h1']).targets;
    };
    assert.deepEqual(none(web({ tls: { mode: 'acme', resolver: 'cloudflare' } })), []);
    assert.deepEqual(none(web({ tls: { mode: 'none' } })), []);
    assert.deepEqual(none(web({ tls: { mode: 'self-signed' } })), []);
    assert.deepEqual(none(web(), { acme: { ...edgeData().acme, preflight: { check: 'off' } } }), []);
  });

  it('passes when the host is among the addresses, or when Cloudflare proxies the name', () => {
    const t = [{ host: 'h1', address: '203.0.113.10', domains: ['a.example', 'b.example'] }];
    assert.deepEqual(evaluatePreflight(t, { 'a.example': { addresses: ['198.51.100.1', '203.0.113.10'] }, 'b.example': { addresses: ['104.16.1.1', '2606:4700::6810:101'] } }, 'shared/edge.yml'), []);
  });

  it('names the domain, what it resolves to, what it should, and the fix', () => {
    const t = [{ host: 'h1', address: '203.0.113.10', domains: ['a.example', 'b.example'] }];
    const problems = evaluatePreflight(t, { 'a.example': { addresses: ['198.51.100.7'] }, 'b.example': { error: 'ENOTFOUND' } }, 'shared/edge.yml');
    assert.deepEqual(problems.map((p) => [p.host, p.domain]), [['h1', 'a.example'], ['h1', 'b.example']]);
    assert.equal(
      problems[0]!.message,
      'a.example resolves to 198.51.100.7, but it should resolve to 203.0.113.10 (h1, hosts.json: hosts.h1.public_ip) before its first certificate order: ' +
        "HTTP-01 validation would fail and spend the CA's failed-validation limit. Point an A/AAAA record for a.example at 203.0.113.10 " +
        '(or proxy it through Cloudflare), or set acme.preflight.check: warn in shared/edge.yml',
    );
    assert.match(problems[1]!.message, /^b\.example resolves to nothing \(ENOTFOUND\), but it should resolve to 203\.0\.113\.10/);
    // A mix of Cloudflare and a foreign address is not "proxied".
    assert.equal(evaluatePreflight(t, { 'a.example': { addresses: ['104.16.1.1', '198.51.100.7'] }, 'b.example': { addresses: ['203.0.113.10'] } }, 'e').length, 1);
  });

  it("staging switch: acme.ca staging renders Let's Encrypt's staging directory", () => {
    const p = project(web(), { acme: { ...edgeData().acme, ca: 'staging' } });
    const st = YAML.parse(renderTraefikStatic(p.edge));
    assert.equal(st.certificatesResolvers.letsencrypt.acme.caServer, LETS_ENCRYPT.staging);
    assert.equal(LETS_ENCRYPT.staging, 'https://acme-staging-v02.api.letsencrypt.org/directory');
  });
});
