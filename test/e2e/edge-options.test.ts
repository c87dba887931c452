// The edge options Kamal users set, end to end on h12 (real Traefik, HAProxy and Pebble): three apps
// on one domain by path prefix, a request body limit (413) and a response timeout (504) rendered as
// Traefik middleware and transport, maintenance mode on and off under load (app's own page from its
// folder or its image), a deploy during maintenance, and DNS-01 through lego's httpreq provider
// against a stand-in endpoint (this process) writing the TXT records into challtestsrv.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { FLEET_NETWORK, hostSpec, PEBBLE } from '../../src/sandbox/config.ts';
import { httpsRequest, sandboxRequest, setDomainHost, type SandboxResponse, waitFor } from '../../src/sandbox/http.ts';
import { makeProject, resetApps, routeDomain, type TestProject, unrouteDomainHost } from './support/project.ts';

const H12 = hostSpec('h12');
const RUN = randomBytes(3).toString('hex');
const DOMAIN = `edge-${RUN}.berth.test`;
const DNS_DOMAIN = `edgedns-${RUN}.berth.test`;
const APPS = ['edgesite', 'edgeblog', 'edgeapi', 'edgedns', 'edgedup'];
const SITE_PAGE = `SITE-PAGE-${RUN}`;
const IMAGE_PAGE = `IMAGE-PAGE-${RUN}`;
let p: TestProject;
let shim: http.Server;
const shimCalls: { path: string; fqdn: string }[] = [];

const ssh = (script: string) => execFileSync('ssh', ['-o', 'BatchMode=yes', `${H12.sshUser}@${H12.sshHost}`, script], { encoding: 'utf8' }).trim();
const get = (path: string, host = DOMAIN, opts: Parameters<typeof httpsRequest>[1] = {}) => httpsRequest(`https://${host}${path}`, { timeoutMs: 15_000, ...opts });

const app = (over: Record<string, unknown>) => ({
  image: 'berth/testapp:v1',
  hosts: [H12.name],
  domains: [DOMAIN],
  port: 80,
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
  deploy: { retire_seconds: 1, stop_timeout_seconds: 5, health_timeout_seconds: 30 },
  ...over,
});
const site = (env: Record<string, string> = {}) =>
  app({
    env: { WHO: 'site', ...env },
    buffering: { requests: true, responses: true, max_request_body: '64k' },
    response_timeout: '2s',
    error_pages_path: 'errors',
  });
const blog = (over: Record<string, unknown> = {}) => app({ image: 'berth/testapp:v2', env: { WHO: 'blog' }, path_prefix: '/blog', ...over });

async function deploy(name: string, args: string[] = []) {
  const r = await p.berth('deploy', [name, '--json', ...args]);
  assert.equal(r.code, 0, r.all);
  return JSON.parse(r.stdout) as { result: string; release: string }[];
}

const ok = async (path: string, host = DOMAIN): Promise<SandboxResponse> =>
  waitFor(`200 from https://${host}${path}`, async () => {
    const r = await get(path, host).catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  }, { timeoutMs: 90_000, intervalMs: 1000 });

/** The test's own httpreq endpoint: lego's /present and /cleanup become challtestsrv TXT records. */
async function startShim(): Promise<string> {
  shim = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      try {
        const { fqdn, value } = JSON.parse(body) as { fqdn: string; value: string };
        shimCalls.push({ path: req.url ?? '', fqdn });
        const to = req.url === '/present' ? ['/set-txt', { host: fqdn, value }] : ['/clear-txt', { host: fqdn }];
        const r = await sandboxRequest(`${PEBBLE.challManagementUrl}${to[0]}`, { method: 'POST', body: JSON.stringify(to[1]) });
        res.writeHead(r.status === 200 ? 200 : 500).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  // On the fleet network's gateway: Traefik on h12 reaches this machine there.
  await new Promise<void>((resolve) => shim.listen(0, FLEET_NETWORK.gateway, resolve));
  return `http://${FLEET_NETWORK.gateway}:${(shim.address() as AddressInfo).port}`;
}

before(async () => {
  const endpoint = await startShim();
  resetApps(APPS, H12);
  ssh(`docker ps -aq --filter label=berth.role=maintenance | xargs -r docker rm -f >/dev/null; rm -f /var/lib/berth/edge/dynamic/*.maintenance.yml`);
  p = makeProject('berth-e2e-edge-', [H12]);
  const edge = YAML.parse(readFileSync(join(p.root, 'shared', 'edge.yml'), 'utf8'));
  edge.acme.resolvers.hook = {
    challenge: 'dns-01',
    provider: 'httpreq',
    credentials: { HTTPREQ_ENDPOINT: 'HTTPREQ_ENDPOINT' },
    resolvers: ['challtestsrv:8053'],
    propagation: { disable_ans_checks: true, delay_before_checks: '0s', timeout: '60s', polling_interval: '1s' },
  };
  writeFileSync(join(p.root, 'shared', 'edge.yml'), YAML.stringify(edge));
  await routeDomain(DOMAIN, H12);
  setDomainHost(DNS_DOMAIN, H12.edgeAddress);
  const setup = await p.berth('setup', [H12.name], { HTTPREQ_ENDPOINT: endpoint });
  assert.equal(setup.code, 0, setup.all);

  p.writeApp('edgesite', site());
  mkdirSync(join(p.root, 'apps', 'edgesite', 'errors'));
  writeFileSync(join(p.root, 'apps', 'edgesite', 'errors', '503.html'), `<html><body><h1>${SITE_PAGE}</h1><p>{{ .Message }}</p></body></html>\n`);
  p.writeApp('edgeblog', blog());
  // The api app's 503.html is inside its image (built on the host from the test app).
  p.writeApp('edgeapi', app({ image: 'edgeapi', build: { context: '.', on: 'host' }, env: { WHO: 'api' }, path_prefix: '/api', strip_path_prefix: false, error_pages_path: '/app/errors' }));
  writeFileSync(join(p.root, 'apps', 'edgeapi', 'Dockerfile'), `FROM berth/testapp:v2\nRUN mkdir -p /app/errors && echo '<p>${IMAGE_PAGE} {{ .Message }}</p>' > /app/errors/503.html\n`);
  for (const a of ['edgesite', 'edgeblog']) await deploy(a);
  await deploy('edgeapi', ['--release', 'v1']);
});

after(async () => {
  try {
    ssh(`docker ps -aq --filter label=berth.role=maintenance | xargs -r docker rm -f >/dev/null; rm -f /var/lib/berth/edge/dynamic/*.maintenance.yml`);
  } catch {
    /* best effort */
  }
  resetApps(APPS, H12);
  await unrouteDomainHost(DOMAIN);
  setDomainHost(DNS_DOMAIN, undefined);
  for (const c of shimCalls) await sandboxRequest(`${PEBBLE.challManagementUrl}/clear-txt`, { method: 'POST', body: JSON.stringify({ host: c.fqdn }) }).catch(() => undefined);
  shim?.close();
  p?.cleanup();
});

test('path routing: the root app, /blog (prefix stripped) and /api (kept) on one domain; /blogger stays on the root app', async () => {
  const root = await ok('/');
  assert.equal(root.headers['x-release'], 'v1');
  assert.equal((await ok('/blog/env?keys=WHO')).body.trim(), '{"WHO":"blog"}');
  const bare = await get('/blog');
  assert.deepEqual([bare.status, bare.headers['x-release']], [200, 'v2'], 'the blog app sees "/"');
  const blogger = await get('/blogger');
  assert.deepEqual([blogger.status, blogger.headers['x-release']], [404, 'v1'], '/blogger is the root app\'s');
  // Not stripped: the api app gets /api/env, which it does not serve (stripped, it would answer {"WHO":"api"}).
  const api = await waitFor('the api app', async () => {
    const r = await get('/api/env?keys=WHO').catch(() => undefined);
    return r?.headers['x-release'] === 'v2' ? r : undefined;
  }, { timeoutMs: 60_000, intervalMs: 1000 });
  assert.equal(api.status, 404);
});

test('the same domain and prefix on another app is refused (file, key, fix) and nothing changes', async () => {
  p.writeApp('edgedup', blog({ env: { WHO: 'dup' } }));
  const r = await p.berth('deploy', ['edgedup']);
  p.removeApp('edgedup');
  assert.equal(r.code, 1, r.all);
  assert.match(r.stderr, new RegExp(`apps/edgedup/app\\.yml: path_prefix: expected a domain and path prefix no other app claims, got "${DOMAIN.replace(/\./g, '\\.')}/blog"; .* is already routed to edgeblog \\(apps/edgeblog/app\\.yml: path_prefix\\); give one of them another path_prefix`));
  assert.equal((await get('/blog/env?keys=WHO')).body.trim(), '{"WHO":"blog"}');
  assert.equal(ssh('docker ps -q --filter label=com.docker.compose.project=berth-edgedup | wc -l'), '0');
});

test('a request body over max_request_body gets 413 from the edge; under it reaches the app; another app has no limit', async () => {
  const big = 'x'.repeat(100 * 1024);
  const over = await get('/write', DOMAIN, { method: 'POST', body: big });
  assert.equal(over.status, 413, over.body);
  assert.equal(over.headers['x-release'], undefined, 'answered by the edge, not the app');
  const under = await get('/write', DOMAIN, { method: 'POST', body: 'y'.repeat(20 * 1024) });
  assert.equal(under.status, 200, under.body);
  assert.match(under.body, /"release":"v1"/);
  const elsewhere = await get('/blog/write', DOMAIN, { method: 'POST', body: big });
  assert.equal(elsewhere.status, 200, elsewhere.body);
});

test('a response slower than response_timeout gets 504 at the timeout; a faster one passes; the default is 30s', async () => {
  const slow = await get('/slow?ms=6000');
  assert.equal(slow.status, 504);
  assert.ok(slow.ms >= 1900 && slow.ms < 5000, `504 after the 2s timeout, took ${Math.round(slow.ms)} ms`);
  const fast = await get('/slow?ms=300');
  assert.equal(fast.status, 200);
  const blogSlow = await get('/blog/slow?ms=4000');
  assert.equal(blogSlow.status, 200, 'the blog app keeps the 30s default');
});

interface Sample { path: string; startedAt: number; status: number; release?: string; page: boolean; error?: string }

/** Open-loop load, bounded in count and time: every request recorded with what answered it. */
function load(paths: string[], perSec: number, maxMs: number, mark: string) {
  const samples: Sample[] = [];
  let stopped = false;
  const done = (async () => {
    const inflight: Promise<void>[] = [];
    const t0 = Date.now();
    for (let i = 0; !stopped && i < (perSec * maxMs) / 1000 && Date.now() - t0 < maxMs; i++) {
      const path = paths[i % paths.length]!;
      const startedAt = Date.now();
      inflight.push(
        get(path, DOMAIN, { timeoutMs: 10_000 }).then(
          (r) => void samples.push({ path, startedAt, status: r.status, release: r.headers['x-release'] as string | undefined, page: r.body.includes(mark) }),
          (e: Error) => void samples.push({ path, startedAt, status: 0, page: false, error: e.message }),
        ),
      );
      await new Promise((r) => setTimeout(r, 1000 / perSec));
    }
    await Promise.all(inflight);
    return samples;
  })();
  return { stop: () => (stopped = true), done };
}

test('maintenance on and off under load: every answer is the app or its page; after each confirmed switch only the new side answers; the neighbour on /blog never sees it', async () => {
  const message = `back soon ${RUN}`;
  const l = load(['/', '/blog/'], 40, 40_000, SITE_PAGE);
  await new Promise((r) => setTimeout(r, 1500));
  const on = await p.berth('maintenance', ['edgesite', '--message', message, '--json']);
  assert.equal(on.code, 0, on.all);
  const onAt = (JSON.parse(on.stdout) as { switchedAt: number }[])[0]!.switchedAt;
  await new Promise((r) => setTimeout(r, 2500));
  const page = await get('/');
  assert.equal(page.status, 503);
  assert.ok(page.body.includes(SITE_PAGE) && page.body.includes(`<p>${message}</p>`), page.body);
  assert.deepEqual([page.headers['cache-control'], page.headers['retry-after']], ['no-store', '60']);
  const liveStart = Date.now();
  const off = await p.berth('live', ['edgesite', '--json']);
  assert.equal(off.code, 0, off.all);
  const liveAt = (JSON.parse(off.stdout) as { switchedAt: number }[])[0]!.switchedAt;
  await new Promise((r) => setTimeout(r, 2500));
  l.stop();
  const samples = await l.done;
  assert.ok(samples.length >= 150, `load ran (${samples.length} requests)`);
  const show = (xs: Sample[]) => xs.slice(0, 10).map((s) => `${s.path} ${s.status} ${s.release ?? ''} ${s.error ?? ''}`);
  const siteAnswers = samples.filter((s) => s.path === '/');
  const blogAnswers = samples.filter((s) => s.path === '/blog/');
  assert.deepEqual(show(siteAnswers.filter((s) => !((s.status === 200 && s.release === 'v1') || (s.status === 503 && s.page)))), [], 'only the app or its maintenance page');
  assert.deepEqual(show(blogAnswers.filter((s) => !(s.status === 200 && s.release === 'v2'))), [], 'the blog app answered every request');
  assert.deepEqual(show(siteAnswers.filter((s) => s.startedAt > onAt && s.startedAt < liveStart && s.status !== 503)), [], 'after the confirmed switch: the page only');
  assert.deepEqual(show(siteAnswers.filter((s) => s.startedAt > liveAt && s.status !== 200)), [], 'after live was confirmed: the app only');
  assert.ok(siteAnswers.some((s) => s.status === 503) && siteAnswers.some((s) => s.startedAt > liveAt), 'both sides were seen');
  assert.equal(ssh('docker ps -aq --filter label=berth.maintenance=edgesite | wc -l'), '0', 'the page server is gone after live');
});

test('a deploy during maintenance keeps it, also for a path the new config adds; status and history show it', async () => {
  const on = await p.berth('maintenance', ['edgeblog']);
  assert.equal(on.code, 0, on.all);
  assert.equal((await get('/blog/')).status, 503);
  p.writeApp('edgeblog', blog({ path_prefix: ['/blog', '/news'] }));
  const [d] = await deploy('edgeblog');
  assert.equal(d!.result, 'deployed');
  for (const path of ['/blog/', '/news/']) {
    const r = await get(path);
    assert.equal(r.status, 503, `${path} stays in maintenance after the deploy`);
    assert.match(r.body, /Down for maintenance/, 'the default page');
  }
  const st = await p.berth('status', ['edgeblog', '--json']);
  const [row] = JSON.parse(st.stdout) as { maintenance?: { since: string; by?: string } }[];
  assert.ok(row!.maintenance && Date.parse(row!.maintenance.since) > Date.now() - 600_000, st.stdout);
  assert.match((await p.berth('status', ['edgeblog'])).stdout, /MAINTENANCE[\s\S]*since \d{4}-\d\d-\d\dT\d\d:\d\dZ/);
  const off = await p.berth('live', ['edgeblog']);
  assert.equal(off.code, 0, off.all);
  assert.equal((await ok('/news/env?keys=WHO')).body.trim(), '{"WHO":"blog"}');
  const h = await p.berth('history', ['edgeblog', '--json']);
  const entries = (JSON.parse(h.stdout) as { entries: { action: string; outcome: string }[] }[])[0]!.entries.map((e) => `${e.action} ${e.outcome}`);
  assert.deepEqual(entries.slice(-3), ['maintenance ok', 'deploy ok', 'live ok']);
});

test('error_pages_path inside the image: the page comes from the live release\'s image', async () => {
  const on = await p.berth('maintenance', ['edgeapi', '--message', 'api pause']);
  assert.equal(on.code, 0, on.all);
  assert.match(on.stdout, /from edgeapi:v1/);
  const r = await get('/api/x');
  assert.equal(r.status, 503);
  assert.equal(r.body.trim(), `<p>${IMAGE_PAGE} api pause</p>`);
  assert.equal((await get('/')).status, 200, 'the root app is not in maintenance');
  assert.equal((await p.berth('live', ['edgeapi'])).code, 0);
  assert.equal((await get('/api/x')).headers['x-release'], 'v2');
});

test('remove takes an app in maintenance away with its route file and page server', async () => {
  assert.equal((await p.berth('maintenance', ['edgeapi'])).code, 0);
  const r = await p.berth('remove', ['edgeapi', '--yes']);
  assert.equal(r.code, 0, r.all);
  assert.equal(ssh('ls /var/lib/berth/edge/dynamic/ | grep -c "^edgeapi\\." || true'), '0');
  assert.equal(ssh('docker ps -aq --filter label=berth.maintenance=edgeapi | wc -l'), '0');
  const after = await get('/api/x');
  assert.deepEqual([after.status, after.headers['x-release']], [404, 'v1'], '/api is the root app\'s again');
});

test("DNS-01 through lego's httpreq provider: the certificate is issued via the endpoint and served", async () => {
  p.writeApp('edgedns', app({ domains: [DNS_DOMAIN], tls: { mode: 'acme', resolver: 'hook' } }));
  await deploy('edgedns');
  const r = await ok('/', DNS_DOMAIN);
  assert.match(r.peerCertificate?.subjectaltname ?? '', new RegExp(`DNS:${DNS_DOMAIN.replace(/\./g, '\\.')}`));
  assert.match(JSON.stringify(r.peerCertificate?.issuer), /Pebble/i);
  const fqdn = `_acme-challenge.${DNS_DOMAIN}.`;
  assert.ok(shimCalls.some((c) => c.path === '/present' && c.fqdn === fqdn), JSON.stringify(shimCalls));
  await waitFor('the TXT record cleaned up', async () => shimCalls.some((c) => c.path === '/cleanup' && c.fqdn === fqdn), { timeoutMs: 20_000 });
  // lego reads the endpoint from a mounted file: the container's environment names the file only.
  const env = ssh(`docker inspect --format '{{json .Config.Env}}' berth-edge-traefik-1`);
  assert.match(env, /HTTPREQ_ENDPOINT_FILE=\/run\/secrets\/HTTPREQ_ENDPOINT/);
  assert.doesNotMatch(env, new RegExp(FLEET_NETWORK.gateway.replace(/\./g, '\\.')));
});
