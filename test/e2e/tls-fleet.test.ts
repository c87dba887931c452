// One certificate for the fleet: an app with a DNS-01 resolver on h1 and h2. h1 (the issuer) orders
// once; h2 gets h1's certificate before its route exists, so both serve the same certificate and one
// order reaches the CA. Needs two sandbox hosts (the machines fleet): skipped while h2 is absent.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { CFMOCK, PEBBLE_DNS, SANDBOX_HOSTS, hostSpec, type SandboxHostSpec } from '../../src/sandbox/config.ts';
import { httpsRequest, sandboxRequest, waitFor } from '../../src/sandbox/http.ts';
import { run } from '../../src/sandbox/proc.ts';
import { ensureDnsChallengeServices } from '../../src/sandbox/services.ts';
import { H1, hostsFor, makeProject, resetApps, type TestProject } from './support/project.ts';

const RUN = randomBytes(3).toString('hex');
const APP = 'tlsfleet';
const DOMAIN = `fleet-${RUN}.berth.test`;
const HAS_H2 = SANDBOX_HOSTS.includes('h2');
const H2 = hostSpec('h2');
/** Where a host's edge answers from this machine (machines: 127.0.1.N; the old single host: 127.0.0.1). */
const edgeOf = (h: SandboxHostSpec) => (h as SandboxHostSpec & { edgeAddress?: string }).edgeAddress ?? '127.0.0.1';
let p: TestProject;
let issuingCa = '';

const pebbleOrders = async () => ((r) => r.stdout + r.stderr)(await run(['docker', 'logs', PEBBLE_DNS.container], { allowFail: true })).split('\n').filter((l) => l.includes('POST /order-plz')).length;
const txtFor = async (name: string) =>
  ((JSON.parse((await sandboxRequest(`${CFMOCK.managementUrl}/state`)).body) as { history: string[] }).history ?? []).filter((n) => n === `_acme-challenge.${name}`).length;
const servedCert = (h: SandboxHostSpec) =>
  waitFor(`${DOMAIN} on ${h.name}`, async () => {
    const r = await httpsRequest(`https://${DOMAIN}/`, { ca: issuingCa, resolveTo: edgeOf(h), timeoutMs: 5000 });
    return r.status === 200 ? r : undefined;
  }, { timeoutMs: 120_000, intervalMs: 1000 });

before(async () => {
  if (!HAS_H2) return;
  await ensureDnsChallengeServices();
  const minica = (await run(['docker', 'exec', PEBBLE_DNS.container, 'cat', '/etc/pebble/ca.pem'])).stdout;
  const get = async (path: string) => (await sandboxRequest(`${PEBBLE_DNS.managementUrl}${path}`, { ca: minica })).body;
  issuingCa = `${await get('/roots/0')}\n${await get('/intermediates/0')}`;
  for (const h of [H1, H2]) resetApps([APP], h);
  p = makeProject();
  writeFileSync(join(p.root, 'hosts.json'), JSON.stringify(hostsFor([H1, H2]), null, 2));
  writeFileSync(join(p.root, 'shared', 'pebble-dns-minica.pem'), minica);
  writeFileSync(
    join(p.root, 'shared', 'edge.yml'),
    YAML.stringify({
      traefik: { image: 'traefik:v3.6.15' },
      socket_proxy: { image: 'tecnativa/docker-socket-proxy:v0.4.1' },
      acme: {
        email: 'ops@example.com', ca: 'custom', ca_server: PEBBLE_DNS.directoryUrl, ca_root: 'pebble-dns-minica.pem',
        resolvers: {
          cfdns: {
            challenge: 'dns-01', provider: 'cloudflare', token_secret: 'CF_DNS_API_TOKEN', api_base_url: CFMOCK.apiBaseUrl,
            resolvers: [CFMOCK.dnsServer], propagation: { disable_ans_checks: true, delay_before_checks: '0s', timeout: '60s', polling_interval: '1s' },
          },
        },
      },
    }),
  );
  p.writeApp(APP, {
    image: 'berth/testapp:v1', hosts: [H1.name, H2.name], domains: [DOMAIN], port: 80, tls: { mode: 'acme', resolver: 'cfdns' },
    healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
    deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 25 },
  });
  for (const h of [H1, H2]) {
    const s = await p.berth('setup', [h.name], { CF_DNS_API_TOKEN: CFMOCK.token });
    assert.equal(s.code, 0, s.all);
  }
});

after(() => {
  if (!HAS_H2) return;
  for (const h of [H1, H2]) {
    resetApps([APP], h);
    execFileSync('ssh', ['-p', String(h.sshPort), `${h.sshUser}@${h.sshHost}`, `rm -f /var/lib/berth/edge/dynamic/${APP}.certificate.yml /var/lib/berth/edge/certs/${APP}.fleet.*`], { stdio: 'ignore' });
  }
  p?.cleanup();
});

test('h1 and h2 serve the same certificate, and only one order reached the CA', { skip: !HAS_H2 && 'needs sandbox hosts h1 and h2' }, async () => {
  const orders0 = await pebbleOrders();
  const r = await p.berth('deploy', [APP]);
  assert.equal(r.code, 0, r.all);
  assert.match(r.all, /h2: certificate from h1/);
  const [a, b] = [await servedCert(H1), await servedCert(H2)];
  assert.ok(a.peerCertificate?.subjectaltname?.includes(DOMAIN));
  assert.equal((a.peerCertificate as { fingerprint256?: string }).fingerprint256, (b.peerCertificate as { fingerprint256?: string }).fingerprint256, 'one certificate on both hosts');
  assert.equal(await txtFor(DOMAIN), 1, 'one DNS-01 challenge for the domain');
  assert.equal((await pebbleOrders()) - orders0, 1, 'one order at the CA');
  // status agrees: same certificate on both hosts, not red.
  const st = await p.berth('status', [APP, '--json']);
  assert.equal(st.code, 0, st.all);
});
