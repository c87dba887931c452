import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import { findStoredCertificate, fleetCertificate, renderFleetCertificate } from '../../src/plan/fleet-certificate.ts';
import { rawProject, valid } from '../fixtures/config/project.ts';

const project = (app: Record<string, unknown>) => valid(rawProject({ a: { image: 'ghcr.io/acme/app', ...app } }));

test('an app with a DNS-01 resolver on several hosts orders once, on the first host by name', () => {
  const p = project({ hosts: ['h2', 'h1'], domains: ['*.example.com', 'example.com'], tls: { mode: 'acme', resolver: 'cloudflare' } });
  assert.deepEqual(fleetCertificate(p.apps[0]!, p.edge, ['h2', 'h1']), { issuer: 'h1', others: ['h2'], resolver: 'cloudflare', domains: ['*.example.com', 'example.com'] });
});

test('one host, HTTP-01 or no ACME: every host orders or serves its own', () => {
  const one = project({ hosts: ['h1'], domains: ['example.com'], tls: { mode: 'acme', resolver: 'cloudflare' } });
  assert.equal(fleetCertificate(one.apps[0]!, one.edge, ['h1']), undefined);
  const http = project({ hosts: ['h1', 'h2'], domains: ['example.com'] });
  assert.equal(fleetCertificate(http.apps[0]!, http.edge, ['h1', 'h2']), undefined);
  const none = project({ hosts: ['h1', 'h2'], domains: ['example.com'], tls: { mode: 'none' } });
  assert.equal(fleetCertificate(none.apps[0]!, none.edge, ['h1', 'h2']), undefined);
});

test("finds the stored certificate for exactly the app's names in Traefik's acme.json", () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const acme = JSON.stringify({
    cloudflare: {
      Account: { Email: 'ops@example.com' },
      Certificates: [
        { domain: { main: 'example.com' }, certificate: b64('CERT-apex'), key: b64('KEY-apex'), Store: 'default' },
        { domain: { main: '*.example.com', sans: ['example.com'] }, certificate: b64('CERT-both'), key: b64('KEY-both'), Store: 'default' },
      ],
    },
    letsencrypt: { Certificates: [{ domain: { main: 'other.example' }, certificate: b64('X'), key: b64('Y') }] },
  });
  assert.deepEqual(findStoredCertificate(acme, 'cloudflare', ['*.example.com', 'example.com']), { cert: 'CERT-both', key: 'KEY-both' });
  assert.deepEqual(findStoredCertificate(acme, 'cloudflare', ['example.com']), { cert: 'CERT-apex', key: 'KEY-apex' });
  assert.equal(findStoredCertificate(acme, 'letsencrypt', ['example.com']), undefined);
  assert.equal(findStoredCertificate(acme, 'missing', ['example.com']), undefined);
  assert.equal(findStoredCertificate('', 'cloudflare', ['example.com']), undefined);
  assert.equal(findStoredCertificate('{"cloudflare":{"Certificates":null}}', 'cloudflare', ['example.com']), undefined);
});

test('the other hosts load the copied certificate through the file provider', () => {
  const p = project({ hosts: ['h1', 'h2'], domains: ['example.com'], tls: { mode: 'acme', resolver: 'cloudflare' } });
  const one = renderFleetCertificate(p.apps[0]!, 'CERT-1');
  assert.deepEqual(YAML.parse(one), {
    tls: { certificates: [{ certFile: '/etc/traefik/certs/a.fleet.crt', keyFile: '/etc/traefik/certs/a.fleet.key' }] },
  });
  // A renewed certificate changes the watched file, so Traefik reloads it.
  assert.notEqual(renderFleetCertificate(p.apps[0]!, 'CERT-2'), one);
});
