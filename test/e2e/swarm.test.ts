// Docker Swarm as Berth's second engine, on the swarm lane (h7 manager, h8, h9 started bare):
// setup forms the swarm; the test app with 3 replicas behind the front (the Cloudflare stand-in,
// plain HTTP to h7's edge) deploys under 50 req/s without losing a request; a release whose health
// check fails never takes traffic and exits non-zero; rollback; status, logs and exec; a node
// powered off mid-traffic has its tasks rescheduled; secrets never appear in inspect, files or output.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type FrontContainer, sandboxRequest, startFront, startLoad, waitFor } from '../../src/sandbox/index.ts';
import { setDomainHost } from '../../src/sandbox/http.ts';
import { openSockets, type SocketFleet } from '../../src/sandbox/streams.ts';
import { FLEET_NETWORK } from '../../src/sandbox/config.ts';
import type { TestProject } from './support/project.ts';
import { onHost } from '../../src/sandbox/fleet.ts';
import { H7, H8, H9, nodeLossDrill, onManager, resetLane, swarmHosts, swarmProject, tasksOf } from './support/swarm-lane.ts';

const APP = 'swt';
const DOMAIN = 'swt.berth.test';
const TOKEN = 'swt-secret-value-6c1f0e9a2b';
const SERVICE = `berth-${APP}_web`;
let p: TestProject;
let front: FrontContainer;
let sockets: SocketFleet | undefined;
const env = { SWT_TOKEN: TOKEN };
const outputs: string[] = [];

const appConfig = (extra: Record<string, unknown> = {}) => ({
  image: 'berth/testapp',
  cluster: 'sw',
  replicas: 3,
  domains: [DOMAIN],
  tls: { mode: 'none' },
  port: 80,
  secrets: ['SWT_TOKEN'],
  env: { GREETING: 'hello ${SWT_TOKEN}' },
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '2s' },
  deploy: { retire_seconds: 20, stop_timeout_seconds: 10, health_timeout_seconds: 60 },
  ...extra,
});

const berth = async (cmd: string, args: string[]) => {
  const r = await p.berth(cmd, args, env);
  outputs.push(r.all);
  return r;
};
const deploy = (release: string) => berth('deploy', [APP, '--release', release, '--json']);
const viaFront = () => sandboxRequest(`${front.httpUrl}/`, { headers: { host: DOMAIN }, timeoutMs: 10_000 });

describe('an app on a three-node swarm', { timeout: 1_500_000 }, () => {
  before(async () => {
    await resetLane([APP]);
    p = swarmProject('berth-e2e-swarm-');
    p.writeApp(APP, appConfig());
    front = await startFront({ origins: [`http://${H7.address}`], network: FLEET_NETWORK.name });
  });

  after(async () => {
    sockets?.stop();
    setDomainHost(DOMAIN, undefined);
    await front?.stop();
    p?.cleanup();
  });

  test('setup forms the swarm (h9 from bare), labels the nodes, and --check finds no drift; a rerun changes nothing', async () => {
    const r = await berth('setup', []);
    assert.equal(r.code, 0, r.all);
    assert.match(r.all, /h7: formed swarm sw, advertising 10\.77\.0\.17/);
    assert.match(r.all, /h9: joined swarm sw as a worker/);
    const nodes = await onManager(`docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}' | sort`);
    assert.deepEqual(nodes.stdout.trim().split('\n').map((l) => l.trim()), ['h7 Ready Leader', 'h8 Ready', 'h9 Ready']);
    const labels = await onManager(`docker node inspect h9 --format '{{json .Spec.Labels}}'`);
    assert.deepEqual(JSON.parse(labels.stdout), { 'berth.cluster': 'sw', 'berth.host': 'h9', 'berth.role.web': 'true' });
    // The join tokens were never printed.
    const tokens = await onManager('docker swarm join-token -q worker; docker swarm join-token -q manager');
    for (const t of tokens.stdout.trim().split('\n')) assert.ok(!r.all.includes(t), 'a join token appears in the output');
    const check = await berth('setup', ['--check']);
    assert.equal(check.code, 0, check.all);
    assert.match(check.stdout, /cluster sw: ok h9: worker, ready, active, 3 labels/);
    const again = await berth('setup', []);
    assert.equal(again.code, 0, again.all);
    assert.doesNotMatch(again.all, /formed swarm|joined swarm/);
  });

  test('the stack file is readable and passes `docker stack config`', async () => {
    const plan = await berth('plan', [APP]);
    assert.equal(plan.code, 0, plan.all);
    const file = join(p.root, 'compose', APP, 'stack.yml');
    assert.ok(existsSync(file));
    const text = readFileSync(file, 'utf8');
    assert.match(text, /endpoint_mode: dnsrr/);
    assert.match(text, /replicas: 3/);
    const out = execFileSync('docker', ['stack', 'config', '-c', file], { env: { ...process.env, BERTH_SECRETS_VERSION: 'check' }, encoding: 'utf8' });
    assert.match(out, /berth-swt-SWT_TOKEN-check/);
  });

  test('first deploy: 3 tasks spread over the nodes, served through the front', async () => {
    const r = await deploy('v1');
    assert.equal(r.code, 0, r.all);
    const [o] = JSON.parse(r.stdout) as { host: string; result: string; colour: string }[];
    assert.equal(o!.result, 'deployed');
    const tasks = await tasksOf(`${SERVICE}-${o!.colour}`);
    assert.equal(tasks.length, 3, JSON.stringify(tasks));
    assert.ok(tasks.every((t) => t.state.startsWith('Running')));
    const res = await waitFor('swt through the front', async () => {
      const x = await viaFront().catch(() => undefined);
      return x?.status === 200 ? x : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    assert.equal(res.headers['x-release'], 'v1');
  });

  test('deploy v1 → v2 under 50 req/s through the front loses no request; after the switch every answer is v2', async () => {
    // WebSockets opened on v1 (through h7's edge), followed across the switches below until v1 retires.
    setDomainHost(DOMAIN, H7.edgeAddress);
    sockets = await openSockets(`ws://${DOMAIN}/ws`, 5, 1000);
    const load = startLoad({ url: front.httpUrl, ratePerSec: 50, maxRequests: 50 * 120, maxDurationMs: 120_000, timeoutMs: 10_000, mix: [{ kind: 'get', weight: 1, path: '/', headers: { host: DOMAIN } }] });
    await new Promise((r) => setTimeout(r, 2000));
    const r = await deploy('v2');
    const done = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    load.stop();
    const res = await load.done;
    assert.equal(r.code, 0, r.all);
    const [o] = JSON.parse(r.stdout) as { switchedAt: number }[];
    assert.equal(res.failures.length, 0, `failed requests: ${JSON.stringify(res.failures.slice(0, 5))} statuses ${JSON.stringify(res.statusCounts)}`);
    assert.ok(res.samples.length > 150, `load ran (${res.samples.length} requests)`);
    assert.ok((res.releaseCounts.v1 ?? 0) > 0 && (res.releaseCounts.v2 ?? 0) > 0, JSON.stringify(res.releaseCounts));
    // Atomic: no request started after the confirmed switch is answered by v1.
    const late = res.samples.filter((s) => s.startedAt > o!.switchedAt + 50);
    assert.ok(late.length > 0 && late.every((s) => s.release === 'v2'), `answers after the switch: ${JSON.stringify(late.filter((s) => s.release !== 'v2').slice(0, 3))}`);
    assert.ok(done > o!.switchedAt);
  });

  test('rollback inside the retire window is a route switch (v1\'s tasks still run); deploying v2 again reuses its running tasks', async () => {
    const t0 = Date.now();
    const r = await berth('rollback', [APP, '--json']);
    const ms = Date.now() - t0;
    assert.equal(r.code, 0, r.all);
    const [o] = JSON.parse(r.stdout) as { release: string; reused: boolean; timings: Record<string, number> }[];
    assert.match(o!.release, /^v1-/);
    assert.equal(o!.reused, true, 'no task was started');
    assert.equal(o!.timings['start + health'], undefined);
    for (let i = 0; i < 4; i++) assert.equal((await viaFront()).headers['x-release'], 'v1');
    console.log(`hot rollback: ${ms} ms wall (switch phase ${Math.round(o!.timings.switch ?? 0)} ms)`);
    const again = await deploy('v2');
    assert.equal(again.code, 0, again.all);
    for (let i = 0; i < 4; i++) assert.equal((await viaFront()).headers['x-release'], 'v2');
    // The WebSockets opened on v1 before the first switch kept working through both switches, and
    // end with 1001 "going away" only when v1 retires (scaled to 0: SIGTERM), retire_seconds later.
    const retireAt = (JSON.parse(again.stdout) as { switchedAt: number }[])[0]!.switchedAt + 20_000;
    await Promise.race([sockets!.closed, new Promise((r) => setTimeout(r, 45_000))]);
    sockets!.stop();
    for (const probe of sockets!.probes) {
      assert.equal(probe.close?.code, 1001, `socket ${probe.id}: ${JSON.stringify(probe.close ?? probe.error)}`);
      assert.ok(probe.close!.at >= retireAt - 1500, `socket ${probe.id} closed ${retireAt - probe.close!.at} ms before the retire`);
      assert.ok(probe.echoes.length >= 10 && probe.echoes.every((e) => e.text.startsWith('v1:')), `socket ${probe.id} kept echoing on v1`);
    }
  });

  test('a release whose health check fails never takes traffic, exits non-zero, and v2 keeps serving', async () => {
    p.writeApp(APP, appConfig({ env: { GREETING: 'hello ${SWT_TOKEN}', UP_STATUS: '500' } }));
    const load = startLoad({ url: front.httpUrl, ratePerSec: 20, maxRequests: 20 * 120, maxDurationMs: 120_000, timeoutMs: 10_000, mix: [{ kind: 'get', weight: 1, path: '/', headers: { host: DOMAIN } }] });
    const r = await deploy('v2');
    load.stop();
    const res = await load.done;
    p.writeApp(APP, appConfig());
    assert.notEqual(r.code, 0, 'the deploy fails');
    assert.match(r.stderr, /not healthy/);
    assert.match(r.stderr, /routing unchanged, the old release v2-\S+ keeps serving/);
    assert.equal(res.failures.length, 0, JSON.stringify(res.statusCounts));
    assert.deepEqual(Object.keys(res.releaseCounts), ['v2'], 'only v2 answered');
    const st = await berth('status', [APP, '--json']);
    const rows = JSON.parse(st.stdout) as { release: string; health: string }[];
    assert.match(rows[0]!.release, /^v2-/);
  });

  test('rollback to v1 after a failed deploy replaced its colour: its tasks start again behind the gate, then the switch', async () => {
    const t0 = Date.now();
    const r = await berth('rollback', [APP, '--json']);
    const ms = Date.now() - t0;
    assert.equal(r.code, 0, r.all);
    const [o] = JSON.parse(r.stdout) as { release: string; reused: boolean }[];
    assert.match(o!.release, /^v1-/);
    assert.equal(o!.reused, false);
    for (let i = 0; i < 6; i++) assert.equal((await viaFront()).headers['x-release'], 'v1');
    console.log(`cold rollback: ${ms} ms wall`);
  });

  test('status, logs (every task, prefixed with node and task) and exec (one task or --all) on the cluster app', async () => {
    const st = await berth('status', [APP, '--json']);
    assert.equal(st.code, 0, st.all);
    const rows = JSON.parse(st.stdout) as { host: string; release: string; health: string }[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.host, 'sw');
    assert.match(rows[0]!.health, /^3\/3 tasks/);
    const logs = await berth('logs', [APP, '--tail', '5']);
    assert.equal(logs.code, 0, logs.all);
    const nodes = new Set([...logs.stdout.matchAll(/^(h[789])\/\S+ \| /gm)].map((m) => m[1]));
    assert.ok(nodes.size >= 2, `lines from several nodes: ${logs.stdout.slice(0, 400)}`);
    const one = await berth('exec', [APP, 'printenv', 'RELEASE']);
    assert.equal(one.code, 0, one.all);
    assert.equal(one.stdout.trim(), 'v1');
    const all = await berth('exec', ['--all', APP, 'hostname']);
    assert.equal(all.code, 0, all.all);
    assert.equal((all.stdout.match(/^--- h[789]\//gm) ?? []).length, 3, all.stdout);
    // The first manager keeps the app's audit trail and releases.
    const hist = await berth('history', [APP, '--json']);
    assert.equal(hist.code, 0, hist.all);
    const entries = (JSON.parse(hist.stdout) as { host: string; entries: { action: string; outcome: string }[] }[]).flatMap((h) => h.entries.map((e) => `${h.host} ${e.action} ${e.outcome}`));
    assert.ok(entries.includes('h7 deploy ok') && entries.includes('h7 deploy failed') && entries.includes('h7 rollback ok'), entries.join('\n'));
    const prune = await berth('prune', [APP, '--json']);
    assert.equal(prune.code, 0, prune.all);
  });

  test('secrets are in none of docker inspect, service specs, stack files or the output', async () => {
    const inspect = await onManager(`docker service inspect $(docker service ls -q --filter label=com.docker.stack.namespace=berth-${APP}); for id in $(docker ps -q --filter label=com.docker.stack.namespace=berth-${APP}); do docker inspect $id; done; cat /var/lib/berth/apps/${APP}/releases/*/stack.yml`);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.ok(inspect.stdout.length > 1000);
    assert.ok(!inspect.stdout.includes(TOKEN), 'the secret value is in docker inspect or a stack file');
    const committed = readFileSync(join(p.root, 'compose', APP, 'stack.yml'), 'utf8');
    assert.ok(!committed.includes(TOKEN));
    for (const o of outputs) assert.ok(!o.includes(TOKEN), 'the secret value appears in Berth output');
    // …yet the app has it, as a Swarm secret file the entrypoint wrapper exports.
    const direct = await onManager(`c=$(docker ps -q --filter label=com.docker.stack.namespace=berth-${APP} --filter label=berth.role=web | head -n 1); docker exec $c sh -c 'cat /run/secrets/SWT_TOKEN'`);
    assert.equal(direct.stdout.trim(), TOKEN);
  });

  test('a host taken out of the cluster is drained first (its task moves), then leaves; back in, hardened: swarm ports open to the other nodes only', async () => {
    const live = JSON.parse((await berth('status', [APP, '--json'])).stdout) as { colour: string }[];
    const svc = `${SERVICE}-${live[0]!.colour}`;
    assert.ok((await tasksOf(svc)).some((t) => t.node === 'h9'), 'a task runs on h9');
    const hosts = swarmHosts();
    hosts.clusters.sw.hosts = ['h7', 'h8'];
    writeFileSync(join(p.root, 'hosts.json'), JSON.stringify(hosts, null, 2));
    const out = await berth('setup', []);
    assert.equal(out.code, 0, out.all);
    assert.match(out.all, /cluster sw: drain and remove h9/);
    const moved = await tasksOf(svc);
    assert.equal(moved.length, 3);
    assert.ok(moved.every((t) => t.node !== 'h9'), JSON.stringify(moved));
    assert.equal((await onHost(H9, "docker info --format '{{.Swarm.LocalNodeState}}'")).stdout.trim(), 'inactive');
    assert.doesNotMatch((await onManager("docker node ls --format '{{.Hostname}}'")).stdout, /h9/);
    for (let i = 0; i < 4; i++) assert.equal((await viaFront()).status, 200);
    // Back in, with the hardening: UFW lets only h7 and h8 reach h9's swarm ports.
    writeFileSync(join(p.root, 'hosts.json'), JSON.stringify(swarmHosts(), null, 2));
    const back = await berth('setup', ['h9', '--harden']);
    assert.equal(back.code, 0, back.all);
    assert.match(back.all, /h9: joined swarm sw as a worker/);
    const ufw = (await onHost(H9, 'ufw show added')).stdout;
    for (const peer of [H7.address, H8.address]) assert.match(ufw, new RegExp(`ufw allow from ${peer.replace(/\./g, '\\.')} to any port 4789 proto udp`));
    assert.doesNotMatch(ufw, /allow (2377|7946|4789)/, 'never open to everyone');
    const check = await berth('setup', ['h9', '--harden', '--check']);
    assert.equal(check.code, 0, check.all);
  });

  test('a node powered off mid-traffic: its tasks come back on the other nodes', async () => {
    const st = JSON.parse((await berth('status', [APP, '--json'])).stdout) as { colour: string }[];
    const svc = `${SERVICE}-${st[0]!.colour}`;
    assert.equal((await tasksOf(svc)).length, 3);
    const { victim, tasksOnIt, recoveryMs, load: res } = await nodeLossDrill({ service: svc, replicas: 3, url: front.httpUrl, host: DOMAIN, ratePerSec: 50, maxMs: 120_000, warmupMs: 2000, settleMs: 3000 });
    const full = recoveryMs / 1000;
    console.log(`node loss (${victim.name}, ${tasksOnIt} of 3 tasks): ${res.failures.length} of ${res.samples.length} requests failed; full strength after ${full.toFixed(1)} s (statuses ${JSON.stringify(res.statusCounts)})`);
    assert.ok(full > 0, 'the tasks came back elsewhere');
    assert.ok(res.samples.length > 300);
    // The app never stops answering: every second of the drill has answered requests, and only
    // requests caught on the dead node's tasks before the edge dropped them fail (≤ 2 %).
    const bySecond = new Map<number, number>();
    for (const x of res.samples) bySecond.set(Math.floor(x.offsetMs / 1000), (bySecond.get(Math.floor(x.offsetMs / 1000)) ?? 0) + (x.status === 200 ? 1 : 0));
    const silent = [...bySecond].filter(([, ok]) => ok === 0).map(([sec]) => sec);
    assert.deepEqual(silent, [], `seconds without a single answered request: ${silent.join(', ')}`);
    assert.ok(res.failures.length <= Math.max(5, res.samples.length * 0.02), `failed requests: ${res.failures.length} ${JSON.stringify(res.failures.slice(0, 5))}`);
    assert.ok(res.samples.slice(-50).every((s) => s.status === 200), 'serving again at full strength');
  });

  test('moving a per-host app to the cluster: its stack starts beside the per-host project and takes the route once healthy', async () => {
    const MOVE = 'swmove';
    const cfg = { image: 'berth/testapp', domains: [`${MOVE}.berth.test`], tls: { mode: 'none' }, port: 80, healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' }, deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 60 } };
    const get = () => sandboxRequest(`${front.httpUrl}/`, { headers: { host: `${MOVE}.berth.test` }, timeoutMs: 10_000 });
    p.writeApp(MOVE, { ...cfg, hosts: ['h7'] });
    try {
      const one = await berth('deploy', [MOVE, '--release', 'v1', '--json']);
      assert.equal(one.code, 0, one.all);
      assert.equal((await get()).headers['x-release'], 'v1');
      p.writeApp(MOVE, { ...cfg, cluster: 'sw', replicas: 2 });
      const load = startLoad({ url: front.httpUrl, ratePerSec: 20, maxRequests: 20 * 60, maxDurationMs: 60_000, timeoutMs: 10_000, mix: [{ kind: 'get', weight: 1, path: '/', headers: { host: `${MOVE}.berth.test` } }] });
      const moved = await berth('deploy', [MOVE, '--release', 'v2', '--json']);
      await new Promise((r) => setTimeout(r, 1500));
      load.stop();
      const res = await load.done;
      assert.equal(moved.code, 0, moved.all);
      assert.match(moved.all, /runs per host on h7; its stack starts beside it/);
      assert.equal(res.failures.length, 0, JSON.stringify(res.statusCounts));
      const route = await onManager(`cat /var/lib/berth/edge/dynamic/${MOVE}.yml`);
      assert.match(route.stdout, new RegExp(`service: ${MOVE}-(blue|green)@swarm`));
      assert.equal((await get()).headers['x-release'], 'v2');
      assert.equal((await tasksOf(`berth-${MOVE}_web-${(JSON.parse(moved.stdout) as { colour: string }[])[0]!.colour}`)).length, 2);
    } finally {
      await berth('remove', [MOVE, '--yes']);
      await onManager(`docker ps -aq --filter label=com.docker.compose.project=berth-${MOVE} | xargs -r docker rm -f >/dev/null; docker network rm berth-${MOVE}_default >/dev/null 2>&1; true`);
      p.removeApp(MOVE);
    }
  });

  test('remove drops the route, the stack and its secrets', async () => {
    const r = await berth('remove', [APP, '--yes']);
    assert.equal(r.code, 0, r.all);
    const left = await onManager(`docker service ls -q --filter label=com.docker.stack.namespace=berth-${APP} | wc -l; docker secret ls -q --filter label=berth.app=${APP} | wc -l; test -e /var/lib/berth/edge/dynamic/${APP}.yml && echo route || echo noroute`);
    assert.deepEqual(left.stdout.trim().split('\n'), ['0', '0', 'noroute']);
  });
});
