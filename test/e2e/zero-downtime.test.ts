// Zero downtime as a Rails user sees it, end to end on the sandbox host: a page of the old release
// keeps its fingerprinted assets after the switch (asset_path), WebSockets and an SSE stream opened
// on the old colour survive the switch and end cleanly (close 1001) only when it retires, a request
// longer than the retire window is drained, and 50 req/s lose nothing meanwhile.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { REGISTRY } from '../../src/sandbox/config.ts';
import { httpsRequest, waitFor } from '../../src/sandbox/http.ts';
import { startLoad } from '../../src/sandbox/load.ts';
import { followSse, openSockets } from '../../src/sandbox/streams.ts';
import { H1, makeProject, onHost, resetApps, type TestProject } from './support/project.ts';

const APP = 'zdt';
const REPO = `${REGISTRY.address}/berth/zdt`;
const DOMAIN = 'zdt.berth.test';
const RETIRE_S = 8;
const STOP_S = 20;
const env = { REGISTRY_PASSWORD: REGISTRY.password };
const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }).trim();
const onH1 = async (cmd: string) => (await onHost(H1, cmd)).stdout.trim();
const get = (path: string) => httpsRequest(`https://${DOMAIN}${path}`);

let p: TestProject;

const config = () => ({
  image: REPO,
  registry: { server: REGISTRY.address, username: REGISTRY.username, password_secret: 'REGISTRY_PASSWORD' },
  hosts: ['h1'],
  secrets: ['REGISTRY_PASSWORD'],
  domains: [DOMAIN],
  port: 80,
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
  asset_path: '/app/public/assets',
  deploy: { retire_seconds: RETIRE_S, stop_timeout_seconds: STOP_S, health_timeout_seconds: 25, keep_releases: 2 },
  // The 30 s request below must not meet the edge's default 30 s response timeout (504) first.
  response_timeout: '60s',
});

const deploy = (release: string) => p.berth('deploy', [APP, '--release', release, '--json'], env);
const assetsOf = (html: string) => [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);

before(async () => {
  // v3 is v1's image under another tag: a third release, to see the oldest one's assets pruned.
  sh(`printf %s '${REGISTRY.password}' | docker login ${REGISTRY.address} -u ${REGISTRY.username} --password-stdin >/dev/null`);
  for (const [tag, from] of [['v1', 'v1'], ['v2', 'v2'], ['v3', 'v1']]) {
    sh(`docker tag berth/testapp:${from} ${REPO}:${tag} && docker push -q ${REPO}:${tag} >/dev/null && docker rmi ${REPO}:${tag} >/dev/null`);
  }
  resetApps([APP]);
  p = makeProject('berth-zdt-');
  p.writeApp(APP, config());
  const setup = await p.berth('setup', ['h1'], env);
  assert.equal(setup.code, 0, setup.all);
});

after(() => {
  resetApps([APP]);
  p?.cleanup();
});

let v1Assets: { path: string; body: string }[] = [];
let v2Assets: string[] = [];

test('v1 → v2: the old page keeps its assets, sockets and streams live until the old colour retires, then close 1001; no request lost', async () => {
  const first = await deploy('v1');
  assert.equal(first.code, 0, first.all);
  const page = await waitFor('v1 page', async () => {
    const r = await get('/page').catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  }, { timeoutMs: 60_000, intervalMs: 1000 });
  assert.equal(page.headers['x-release'], 'v1');
  for (const path of assetsOf(page.body)) {
    const r = await get(path);
    assert.equal(r.status, 200, `${path} on v1`);
    v1Assets.push({ path, body: r.body });
  }
  assert.equal(v1Assets.length, 2, 'the v1 page links a stylesheet and a script');

  // Long-lived connections opened on v1 before the switch.
  const sockets = await openSockets(`wss://${DOMAIN}/ws`, 20, 1000);
  const sse = followSse(`https://${DOMAIN}/sse?interval_ms=250`, 90_000);
  // Longer than the retire window: still running when the old colour gets SIGTERM, drained within stop_timeout_seconds.
  const slow = httpsRequest(`https://${DOMAIN}/slow?ms=30000`, { timeoutMs: 60_000 }).then((r) => ({ ...r, doneAt: Date.now() }));
  const load = startLoad({
    url: `https://${DOMAIN}`, ratePerSec: 50, maxRequests: 2500, maxDurationMs: 45_000, keepAlive: false,
    mix: [{ kind: 'get', weight: 3, path: '/' }, { kind: 'page', weight: 1, path: '/page' }],
  });
  try {
    await new Promise((r) => setTimeout(r, 1500));
    const r = await deploy('v2');
    assert.equal(r.code, 0, r.all);
    const switchedAt = (JSON.parse(r.stdout) as { switchedAt: number }[])[0]!.switchedAt;
    const retireAt = switchedAt + RETIRE_S * 1000;

    // Right after the switch the live colour is v2, and it serves v1's assets with v1's content.
    const page2 = await get('/page');
    assert.equal(page2.headers['x-release'], 'v2');
    v2Assets = assetsOf(page2.body);
    assert.equal(v2Assets.length, 2);
    assert.deepEqual(v2Assets.filter((a) => v1Assets.some((o) => o.path === a)), [], 'v2 assets have other digests');
    for (const a of v1Assets) {
      const x = await get(a.path);
      assert.equal(x.headers['x-release'], 'v2', 'served by the new colour');
      assert.equal(x.status, 200, `v1 asset ${a.path} after the switch`);
      assert.equal(x.body, a.body, `v1 asset ${a.path} keeps v1's content`);
    }
    for (const a of v2Assets) assert.equal((await get(a)).status, 200, `v2 asset ${a}`);

    await new Promise((r) => setTimeout(r, 2500));
    load.stop();
    const result = await load.done;
    assert.ok(result.samples.length >= 100, `load ran (${result.samples.length} requests)`);
    assert.deepEqual(result.failures.map((s) => `${s.kind} ${s.status} ${s.error ?? ''}`), [], 'no failed request at 50 req/s');

    // The sockets and the stream end only when the old colour retires, cleanly.
    await Promise.race([sockets.closed, new Promise((r) => setTimeout(r, (RETIRE_S + STOP_S + 15) * 1000))]);
    await Promise.race([sse.ended, new Promise((r) => setTimeout(r, 5000))]);
    for (const s of sockets.probes) {
      assert.ok(s.close, `socket ${s.id} closed`);
      assert.equal(s.close.code, 1001, `socket ${s.id} got close 1001 "going away" (1006 = connection dropped), got ${s.close.code} ${s.error ?? ''}`);
      assert.ok(s.close.at >= retireAt, `socket ${s.id} closed ${s.close.at - switchedAt} ms after the switch, before the ${RETIRE_S}s retire window`);
      assert.ok(s.echoes.every((e) => e.text.startsWith('v1:')), `socket ${s.id} stays on v1`);
      assert.ok(s.echoes.some((e) => e.at > retireAt - 1500), `socket ${s.id} kept echoing until the retire (last echo ${(s.echoes.at(-1)?.at ?? 0) - switchedAt} ms after the switch)`);
    }
    assert.equal(sse.status, 200);
    const ticksAfter = sse.events.filter((e) => e.event === 'tick' && e.at > switchedAt + 1000);
    assert.ok(ticksAfter.length >= (RETIRE_S - 2) * 2, `the SSE stream kept flowing after the switch (${ticksAfter.length} ticks)`);
    assert.ok(sse.events.filter((e) => e.event === 'tick').every((e) => e.data.startsWith('v1 ')));
    assert.equal(sse.events.at(-1)?.event, 'bye', 'the stream ends with the app\'s goodbye');
    assert.ok(sse.end?.clean, `the stream ended cleanly (${sse.end?.error ?? 'no end'})`);
    assert.ok(sse.end!.at >= retireAt);

    const s = await slow;
    assert.equal(s.status, 200, 'a request longer than the retire window finishes within stop_timeout_seconds');
    assert.equal(s.headers['x-release'], 'v1');
    assert.ok(s.doneAt > retireAt, 'it was still running when the old colour got SIGTERM');
    const ps = () => onH1(`docker ps --all --filter label=com.docker.compose.project=berth-${APP} --format '{{.Label "com.docker.compose.service"}} {{.State}}'`);
    await waitFor('old colour stopped', async () => /web-blue exited/.test(await ps()), { timeoutMs: 30_000, intervalMs: 500 });
  } finally {
    load.stop();
    sockets.stop();
    sse.stop();
  }
});

test('rollback to v1 serves the v2 page\'s assets too', async () => {
  const r = await p.berth('rollback', [APP, '--json'], env);
  assert.equal(r.code, 0, r.all);
  const page = await get('/page');
  assert.equal(page.headers['x-release'], 'v1');
  for (const a of [...v2Assets, ...v1Assets.map((x) => x.path)]) {
    const x = await get(a);
    assert.equal(x.status, 200, `${a} after rollback`);
    assert.equal(x.headers['x-release'], 'v1');
  }
});

test('assets of releases older than keep_releases are pruned', async () => {
  // Live: v1 (rolled back). Deploy v3 with keep_releases 2: v1 (live) and v3 stay, v2 goes.
  const r = await deploy('v3');
  assert.equal(r.code, 0, r.all);
  const dir = `/var/lib/berth/apps/${APP}/assets`;
  assert.equal(await onH1(`ls ${dir}/extracted`), 'v1\nv3');
  assert.equal(await onH1(`ls ${dir}/volumes`), 'v1\nv3');
  for (const a of v2Assets) assert.equal((await get(a)).status, 404, `${a} (v2, pruned)`);
  for (const a of v1Assets) assert.equal((await get(a.path)).status, 200, `${a.path} (v1, live until now)`);
});
