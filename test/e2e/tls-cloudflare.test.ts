// Behind the Cloudflare stand-in (berth/front): the three SSL modes end to end — Flexible (plain
// HTTP at the origin), Full (HTTPS with Traefik's self-signed certificate, not verified by the front),
// Full strict (an origin certificate the front verifies) — and real client IPs: the front is a
// trusted forwarded-header source, a direct request with a forged X-Forwarded-For is not.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { ensureFrontImage, FRONT_IMAGE, startFront, type FrontContainer } from '../../src/sandbox/front.ts';
import { FLEET_NETWORK, MIRROR, PEBBLE } from '../../src/sandbox/config.ts';
import { mirrorPath } from '../../src/sandbox/mirror.ts';
import { run } from '../../src/sandbox/proc.ts';
import { sandboxRequest } from '../../src/sandbox/http.ts';
import { H1, makeProject, resetApps, type TestProject } from './support/project.ts';

const RUN = randomBytes(3).toString('hex');
const APPS = ['cfflex', 'cffull', 'cfstrict'];
// h1 as the front reaches it: its address on the fleet network (its edge publishes 80 and 443 there).
const ORIGIN = H1.address;
const domain = (app: string) => `${app}-${RUN}.berth.test`;
let p: TestProject;
let originKey = '';
let originCert = '';
const fronts: Record<string, FrontContainer> = {};

interface Echo {
  remote: string;
  headers: Record<string, string[] | string>;
}
const header = (e: Echo, name: string) => {
  const k = Object.keys(e.headers).find((h) => h.toLowerCase() === name.toLowerCase());
  const v = k ? e.headers[k] : undefined;
  return Array.isArray(v) ? v.join(', ') : v;
};

/** GET / of an app through a front (plain HTTP from here to the front, the front's mode to the origin). */
/** Hosts pull images through the sandbox mirror: put berth/front there (the app image of this test). */
async function mirrorFrontImage() {
  await ensureFrontImage();
  const { repo, tag } = mirrorPath(FRONT_IMAGE);
  const ref = `${MIRROR.address}/${repo}:${tag}`;
  await run(['docker', 'tag', FRONT_IMAGE, ref]);
  try {
    await run(['docker', 'push', '-q', ref], { timeoutMs: 300_000 });
  } finally {
    await run(['docker', 'rmi', ref], { allowFail: true });
  }
}

async function viaFront(front: FrontContainer, app: string, headers: Record<string, string> = {}) {
  return sandboxRequest(`${front.httpUrl}/`, { headers: { Host: domain(app), ...headers }, timeoutMs: 10_000 });
}

const app = (name: string, tls: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  image: 'berth/front:latest',
  command: 'front echo',
  hosts: [H1.name],
  domains: [domain(name)],
  port: 80,
  tls,
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
  deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 25 },
  ...extra,
});

before(async () => {
  await mirrorFrontImage();
  resetApps(APPS);
  p = makeProject();
  const dir = join(p.root, 'apps', 'cfstrict');
  execFileSync('mkdir', ['-p', dir]);
  // Stand-in for a Cloudflare Origin CA certificate: self-made, trusted by the front in Full strict.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', `/CN=${domain('cfstrict')}`,
    '-addext', `subjectAltName=DNS:${domain('cfstrict')}`, '-keyout', join(dir, 'origin.key'), '-out', join(dir, 'origin.pem')], { stdio: 'ignore' });
  originKey = readFileSync(join(dir, 'origin.key'), 'utf8');
  originCert = readFileSync(join(dir, 'origin.pem'), 'utf8');
  fronts.flexible = await startFront({ origins: [`http://${ORIGIN}`], name: 'berth-tls-front-flex', network: FLEET_NETWORK.name });
  fronts.full = await startFront({ origins: [`https://${ORIGIN}`], originTls: 'insecure', name: 'berth-tls-front-full', network: FLEET_NETWORK.name });
  fronts.fullVerify = await startFront({ origins: [`https://${ORIGIN}`], originTls: 'verify', name: 'berth-tls-front-fullv', network: FLEET_NETWORK.name });
  fronts.strict = await startFront({ origins: [`https://${ORIGIN}`], originTls: 'verify', originCaPem: originCert, name: 'berth-tls-front-strict', network: FLEET_NETWORK.name });
  // A front NOT listed as trusted: its forwarded headers must not be believed.
  fronts.untrusted = await startFront({ origins: [`http://${ORIGIN}`], name: 'berth-tls-front-untrusted', network: FLEET_NETWORK.name });
  const trusted = ['flexible', 'full', 'fullVerify', 'strict'].map((k) => `${fronts[k]!.address}/32`);
  writeFileSync(
    join(p.root, 'shared', 'edge.yml'),
    YAML.stringify({
      traefik: { image: 'traefik:v3.6.15' },
      socket_proxy: { image: 'tecnativa/docker-socket-proxy:v0.4.1' },
      trusted_ips: ['cloudflare', ...trusted],
      acme: { email: 'ops@example.com', ca: 'custom', ca_server: PEBBLE.directoryUrl, ca_root: 'pebble-minica.pem', resolvers: { letsencrypt: { challenge: 'http-01' } } },
    }),
  );
  p.writeApp('cfflex', app('cfflex', { mode: 'none' }));
  p.writeApp('cffull', app('cffull', { mode: 'self-signed' }));
  p.writeApp('cfstrict', app('cfstrict', { mode: 'origin-certificate', cert_file: 'origin.pem', key_secret: 'ORIGIN_KEY' }, { secrets: ['ORIGIN_KEY'] }));
  const setup = await p.berth('setup', [H1.name]);
  assert.equal(setup.code, 0, setup.all);
  for (const a of APPS) {
    const r = await p.berth('deploy', [a], { ORIGIN_KEY: originKey });
    assert.equal(r.code, 0, r.all);
  }
});

after(async () => {
  for (const f of Object.values(fronts)) await f.stop();
  resetApps(APPS);
  p?.cleanup();
});

test('Flexible: the front reaches the origin over plain HTTP', async () => {
  const r = await viaFront(fronts.flexible!, 'cfflex');
  assert.equal(r.status, 200, r.body);
  assert.match(String(r.headers['x-front-origin']), /^http:\/\//);
});

test("Full: HTTPS to the origin with Traefik's self-signed certificate; a verifying front refuses it", async () => {
  const r = await viaFront(fronts.full!, 'cffull');
  assert.equal(r.status, 200, r.body);
  assert.match(String(r.headers['x-front-origin']), /^https:\/\//, 'the origin was reached over HTTPS');
  const strict = await viaFront(fronts.fullVerify!, 'cffull');
  assert.equal(strict.status, 502, 'the certificate is not one a verifying client accepts');
});

test('Full strict: the front verifies the origin certificate', async () => {
  const r = await viaFront(fronts.strict!, 'cfstrict');
  assert.equal(r.status, 200, r.body);
  assert.match(String(r.headers['x-front-origin']), /^https:\/\//);
  // Plain HTTP at the origin redirects to HTTPS (Full strict never serves the app over HTTP).
  const plain = await sandboxRequest(`http://${domain('cfstrict')}/`);
  assert.ok([301, 308].includes(plain.status), String(plain.status));
});

test("real client IPs: through a trusted front the app sees the client's address first in X-Forwarded-For", async () => {
  const r = await viaFront(fronts.flexible!, 'cfflex', { 'X-Forwarded-For': '203.0.113.7' });
  const e = JSON.parse(r.body) as Echo;
  const client = header(e, 'CF-Connecting-IP')!;
  assert.ok(client && client !== fronts.flexible!.address, `the front saw a client address (${client})`);
  // Chain as the front built it (client's claim, client), then Traefik appends the front itself.
  assert.equal(header(e, 'X-Forwarded-For'), `203.0.113.7, ${client}, ${fronts.flexible!.address}`);
});

test('a forged X-Forwarded-For straight to the origin, or through an untrusted proxy, is not believed', async () => {
  const direct = await sandboxRequest(`http://${domain('cfflex')}/`, { headers: { 'X-Forwarded-For': '198.51.100.66' } });
  assert.equal(direct.status, 200);
  const d = JSON.parse(direct.body) as Echo;
  assert.ok(!header(d, 'X-Forwarded-For')?.includes('198.51.100.66'), `forged claim dropped: ${header(d, 'X-Forwarded-For')}`);
  const via = await viaFront(fronts.untrusted!, 'cfflex', { 'X-Forwarded-For': '198.51.100.66' });
  const u = JSON.parse(via.body) as Echo;
  assert.equal(header(u, 'X-Forwarded-For'), fronts.untrusted!.address, 'only the untrusted proxy\'s own address');
});
