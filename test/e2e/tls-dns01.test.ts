// DNS-01 end to end through lego's real Cloudflare provider (inside Traefik): cfmock stands in for
// Cloudflare's API and the zone's DNS, a second Pebble validates against that DNS. A certificate is
// issued and served for a plain domain and for a wildcard (a random name under it gets the wildcard).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { CFMOCK, PEBBLE_DNS } from '../../src/sandbox/config.ts';
import { httpsRequest, sandboxRequest, waitFor, type SandboxResponse } from '../../src/sandbox/http.ts';
import { run } from '../../src/sandbox/proc.ts';
import { ensureDnsChallengeServices } from '../../src/sandbox/services.ts';
import { H1, makeProject, resetApps, type TestProject } from './support/project.ts';

const RUN = randomBytes(3).toString('hex');
const APPS = ['tlsdns', 'tlswild', 'tlsshort'];
let p: TestProject;
let minica = '';
let issuingCa = '';

interface CfState {
  records: { id: string; name: string }[];
  created: number;
  calls: { method: string; path: string; status: number }[];
}
const cfState = async () => JSON.parse((await sandboxRequest(`${CFMOCK.managementUrl}/state`)).body) as CfState;

const app = (domains: string[]) => ({
  image: 'berth/testapp:v1',
  hosts: [H1.name],
  domains,
  port: 80,
  tls: { mode: 'acme', resolver: 'cfdns' },
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
  deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 25 },
});

/** HTTPS verified against pebble-dns's own roots only (a certificate from any other CA fails). */
async function servedBy(url: string): Promise<SandboxResponse> {
  return waitFor(
    `a pebble-dns certificate on ${url}`,
    async () => {
      const r = await httpsRequest(url, { ca: issuingCa, timeoutMs: 5000 });
      return r.status === 200 ? r : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 1000 },
  );
}

before(async () => {
  await ensureDnsChallengeServices();
  minica = (await run(['docker', 'exec', PEBBLE_DNS.container, 'cat', '/etc/pebble/ca.pem'])).stdout;
  const get = async (path: string) => (await sandboxRequest(`${PEBBLE_DNS.managementUrl}${path}`, { ca: minica })).body;
  issuingCa = `${await get('/roots/0')}\n${await get('/intermediates/0')}`;
  resetApps(APPS);
  p = makeProject();
  writeFileSync(join(p.root, 'shared', 'pebble-dns-minica.pem'), minica);
  writeFileSync(
    join(p.root, 'shared', 'edge.yml'),
    YAML.stringify({
      traefik: { image: 'traefik:v3.6.15' },
      socket_proxy: { image: 'tecnativa/docker-socket-proxy:v0.4.1' },
      acme: {
        email: 'ops@example.com',
        ca: 'custom',
        ca_server: PEBBLE_DNS.directoryUrl,
        ca_root: 'pebble-dns-minica.pem',
        resolvers: {
          cfdns: {
            challenge: 'dns-01',
            provider: 'cloudflare',
            token_secret: 'CF_DNS_API_TOKEN',
            api_base_url: CFMOCK.apiBaseUrl,
            resolvers: [CFMOCK.dnsServer],
            propagation: { disable_ans_checks: true, delay_before_checks: '0s', timeout: '60s', polling_interval: '1s' },
          },
        },
      },
    }),
  );
  const setup = await p.berth('setup', [H1.name], { CF_DNS_API_TOKEN: CFMOCK.token });
  assert.equal(setup.code, 0, setup.all);
  assert.ok(!setup.all.includes(CFMOCK.token), 'the token never appears in output');
});

after(() => {
  resetApps(APPS);
  p?.cleanup();
});

test("the edge hands lego the provider's environment, the token only as a file", async () => {
  const id = (await run(['docker', '--context', H1.context, 'ps', '-q', '--filter', 'label=com.docker.compose.project=berth-edge', '--filter', 'label=com.docker.compose.service=traefik'])).stdout.trim();
  const inspect = (await run(['docker', '--context', H1.context, 'inspect', id])).stdout;
  assert.match(inspect, /CF_DNS_API_TOKEN_FILE=\/run\/secrets\/CF_DNS_API_TOKEN/);
  assert.ok(inspect.includes(`CLOUDFLARE_BASE_URL=${CFMOCK.apiBaseUrl}`));
  assert.ok(!inspect.includes(CFMOCK.token), 'docker inspect shows no token value');
});

test('DNS-01: a certificate is issued through the Cloudflare API and served', async () => {
  const before = await cfState();
  const domain = `dns-${RUN}.berth.test`;
  p.writeApp('tlsdns', app([domain]));
  const r = await p.berth('deploy', ['tlsdns']);
  assert.equal(r.code, 0, r.all);
  const res = await servedBy(`https://${domain}/`);
  assert.equal(res.headers['x-release'], 'v1');
  assert.ok(res.peerCertificate?.subjectaltname?.includes(`DNS:${domain}`), res.peerCertificate?.subjectaltname);
  assert.match(JSON.stringify(res.peerCertificate?.issuer), /Pebble/i);
  // lego found the zone, created the TXT record with the token, and removed it afterwards.
  const after = await cfState();
  const calls = after.calls.slice(before.calls.length);
  assert.ok(calls.some((c) => c.method === 'GET' && c.path === '/client/v4/zones' && c.status === 200), JSON.stringify(calls));
  assert.ok(calls.some((c) => c.method === 'POST' && c.path === '/client/v4/zones/zone-berth-test/dns_records' && c.status === 200), JSON.stringify(calls));
  assert.ok(calls.some((c) => c.method === 'DELETE' && c.status === 200), JSON.stringify(calls));
  assert.ok(!calls.some((c) => c.status === 403), 'every call carried the token');
  await waitFor('TXT records cleaned up', async () => !(await cfState()).records.some((x) => x.name.endsWith(domain)), { timeoutMs: 10_000 });
});

test('a wildcard domain gets one wildcard certificate; a random name under it is served with it', async () => {
  const zone = `wild-${RUN}.berth.test`;
  p.writeApp('tlswild', app([`*.${zone}`]));
  const r = await p.berth('deploy', ['tlswild']);
  assert.equal(r.code, 0, r.all);
  const res = await servedBy(`https://${randomBytes(4).toString('hex')}.${zone}/`);
  assert.equal(res.headers['x-release'], 'v1');
  assert.equal(res.peerCertificate?.subjectaltname, `DNS:*.${zone}`);
  // Another random name: the same certificate, no new order needed.
  const again = await httpsRequest(`https://x${randomBytes(3).toString('hex')}.${zone}/`, { ca: issuingCa });
  assert.equal(again.status, 200);
  assert.equal(again.peerCertificate?.subjectaltname, `DNS:*.${zone}`);
  // Two labels deep is not under the wildcard.
  const deep = await httpsRequest(`https://a.b.${zone}/`, { ca: issuingCa }).catch((e: Error) => e);
  assert.ok(deep instanceof Error || deep.status === 404, 'a.b.<zone> is not routed to the app');
});

test('status: certificate expiry per domain per host, red within 14 days of expiry', async () => {
  // A certificate that expires in 5 days, served as an origin certificate next to the DNS-01 one.
  const short = `short-${RUN}.berth.test`;
  p.writeApp('tlsshort', { ...app([short]), secrets: ['SHORT_KEY'], tls: { mode: 'origin-certificate', cert_file: 'c.pem', key_secret: 'SHORT_KEY' } });
  const dir = join(p.root, 'apps', 'tlsshort');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '5', '-subj', `/CN=${short}`,
    '-addext', `subjectAltName=DNS:${short}`, '-keyout', join(dir, 'c.key'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  const d = await p.berth('deploy', ['tlsshort'], { SHORT_KEY: readFileSync(join(dir, 'c.key'), 'utf8') });
  assert.equal(d.code, 0, d.all);

  const ok = await p.berth('status', ['tlsdns', '--json']);
  assert.equal(ok.code, 0, ok.all);
  const [row] = JSON.parse(ok.stdout) as { host: string; certificate: { domain: string; expires: string; state: string; fingerprint: string }[] }[];
  assert.equal(row!.host, H1.name);
  assert.equal(row!.certificate[0]!.domain, `dns-${RUN}.berth.test`);
  assert.equal(row!.certificate[0]!.state, 'ok');
  assert.ok(Date.parse(row!.certificate[0]!.expires) > Date.now() + 14 * 86_400_000, row!.certificate[0]!.expires);
  assert.match(row!.certificate[0]!.fingerprint, /^[0-9A-F:]{95}$/);

  const red = await p.berth('status', ['tlsshort']);
  assert.equal(red.code, 3, red.all);
  assert.match(red.stdout, new RegExp(`RED ${short.replace(/\./g, '\\.')}: expires in [45] days`));
});
