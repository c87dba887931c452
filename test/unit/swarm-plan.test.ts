// Forming a swarm and keeping it as hosts.json says (src/plan/swarm-plan.ts), the swarm's part of
// the hardening, the cluster observation the planners read, and the task-prefixed logs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { clusterSchema, hostSchema } from '../../src/config/schema.ts';
import { planDeploy, planRollback } from '../../src/plan/deploy-plan.ts';
import { swarmUfwRules } from '../../src/plan/hardening-swarm.ts';
import { renderHardening, renderHardeningCheck } from '../../src/plan/render-hardening.ts';
import { type EngineSwarm, parseEngineSwarm, parseSwarmNodes, planMembership, planNodes, type SwarmNode } from '../../src/plan/swarm-plan.ts';
import { parseClusterObservation } from '../../src/engine/swarm/state.ts';
import { LOGS_TASK_GONE, prefixServiceLogs, readServiceLogs, tasksHealthy } from '../../src/engine/swarm/ops.ts';
import { swarmAppScripts } from '../../src/exec/swarm-app-scripts.ts';
import { swarmScripts } from '../../src/exec/swarm-scripts.ts';

const hosts = Object.fromEntries(['a', 'b', 'c', 'd'].map((n, i) => [n, hostSchema.parse({ ssh: `root@192.0.2.${i + 1}`, private_ip: `10.0.0.${i + 1}`, roles: n === 'c' ? ['db'] : ['web'] })]));
const cluster = clusterSchema.parse({ engine: 'swarm', hosts: ['a', 'b', 'c'], managers: ['a'], address_pool: '10.220.0.0/16' });
const engine = (host: string, state: string, nodeId = '', manager = false): EngineSwarm => ({ host, state, nodeId, clusterId: manager ? 'C1' : '', manager });
const node = (id: string, host: string, over: Partial<SwarmNode> = {}): SwarmNode => ({
  id, role: host === 'a' ? 'manager' : 'worker', availability: 'active', status: 'ready', addr: '10.0.0.9',
  labels: { 'berth.cluster': 'main', 'berth.host': host, [`berth.role.${host === 'c' ? 'db' : 'web'}`]: 'true' }, ...over,
});

describe('forming the swarm', () => {
  test('no swarm yet: the first manager inits on its private address (and pool); the others join with the right token', () => {
    const p = planMembership('main', cluster, hosts, [engine('a', 'inactive'), engine('b', 'inactive'), engine('c', 'inactive')], []);
    assert.deepEqual(p.init, { host: 'a', addr: '10.0.0.1', pool: '10.220.0.0/16' });
    assert.deepEqual(p.join, [{ host: 'b', as: 'worker', addr: '10.0.0.2' }, { host: 'c', as: 'worker', addr: '10.0.0.3' }]);
    assert.deepEqual(p.problems, []);
  });

  test('a formed swarm is left alone; a new host joins; a host in another swarm is never forced out', () => {
    const formed = [engine('a', 'active', 'NA', true), engine('b', 'active', 'NB'), engine('c', 'inactive')];
    const p = planMembership('main', cluster, hosts, formed, [node('NA', 'a'), node('NB', 'b')]);
    assert.equal(p.init, undefined);
    assert.deepEqual(p.join.map((j) => j.host), ['c']);
    const foreign = planMembership('main', cluster, hosts, [engine('a', 'active', 'NA', true), engine('b', 'active', 'NX'), engine('c', 'active', 'NC')], [node('NA', 'a'), node('NC', 'c')]);
    assert.deepEqual(foreign.join, []);
    assert.equal(foreign.problems.length, 1);
    assert.match(foreign.problems[0]!, /^b is in another swarm .*docker swarm leave --force/);
  });

  test('the first manager being a worker elsewhere stops setup before anything changes', () => {
    const p = planMembership('main', cluster, hosts, [engine('a', 'active', 'NA', false), engine('b', 'inactive'), engine('c', 'inactive')], []);
    assert.equal(p.init, undefined);
    assert.deepEqual(p.join, []);
    assert.match(p.problems[0]!, /a is the first manager of cluster main but its engine is a worker of another swarm/);
  });

  test('labels from hosts.json (host, cluster, roles); stale roles removed; roles and availability kept as hosts.json says; a host that left is drained and removed', () => {
    const nodes = [
      node('NA', 'a'),
      node('NB', 'b', { labels: { 'berth.cluster': 'main', 'berth.host': 'b', 'berth.role.db': 'true' }, role: 'manager', availability: 'drain' }),
      node('NC', 'c', { labels: {} }),
      node('ND', 'd'),
      node('NE', 'e', { labels: {} }),
    ];
    const engines = [engine('a', 'active', 'NA', true), engine('b', 'active', 'NB', true), engine('c', 'active', 'NC')];
    const p = planNodes('main', cluster, hosts, engines, nodes);
    assert.deepEqual(p.labels, [
      { host: 'b', id: 'NB', add: { 'berth.role.web': 'true' }, rm: ['berth.role.db'] },
      { host: 'c', id: 'NC', add: { 'berth.cluster': 'main', 'berth.host': 'c', 'berth.role.db': 'true' }, rm: [] },
    ]);
    assert.deepEqual(p.demote, [{ host: 'b', id: 'NB' }]);
    assert.deepEqual(p.activate, [{ host: 'b', id: 'NB' }]);
    assert.deepEqual(p.remove, [{ host: 'd', id: 'ND', status: 'ready' }]);
    assert.deepEqual(p.report, [
      'ok a: manager, ready, active, 3 labels',
      'drift b: labels differ (missing or changed: berth.role.web; extra: berth.role.db); is a manager, should be a worker; availability drain',
      'drift c: labels differ (missing or changed: berth.cluster, berth.host, berth.role.db; extra: none)',
      'drift d: still a node (ready, active) but no longer in cluster main: setup drains and removes it',
      'drift node NE (10.0.0.9): in the swarm but not a host of cluster main',
    ]);
  });

  test('parsing what the engines and the managers say', () => {
    assert.deepEqual(parseEngineSwarm('a', 'inactive|||false\n'), { host: 'a', state: 'inactive', nodeId: '', clusterId: '', manager: false });
    assert.deepEqual(parseEngineSwarm('a', 'active|NA|C1|true'), { host: 'a', state: 'active', nodeId: 'NA', clusterId: 'C1', manager: true });
    assert.deepEqual(parseSwarmNodes('NA manager active ready 10.0.0.1 {"berth.host":"a"}\nNB worker drain down 10.0.0.2 null\ngarbage'), [
      { id: 'NA', role: 'manager', availability: 'active', status: 'ready', addr: '10.0.0.1', labels: { 'berth.host': 'a' } },
      { id: 'NB', role: 'worker', availability: 'drain', status: 'down', addr: '10.0.0.2', labels: {} },
    ]);
  });

  test('a join token travels on stdin only, never in an argument', () => {
    const cmd = swarmScripts.join({ user: 'root', address: '192.0.2.2', port: 22 }, '10.0.0.2', '10.0.0.1', 'SWMTKN-1-secret');
    assert.equal(cmd.input, 'SWMTKN-1-secret');
    assert.ok(!cmd.argv.join(' ').includes('SWMTKN'));
    const sec = swarmAppScripts.createSecrets({ user: 'root', address: '192.0.2.1', port: 22 }, 'shop', 'v1', 'berth-shop-X-v1 c2VjcmV0\n');
    assert.ok(!sec.argv.join(' ').includes('c2VjcmV0'));
  });
});

describe("the swarm's hardening", () => {
  const host = hostSchema.parse({ ssh: 'root@192.0.2.1', private_ip: '10.0.0.1' });
  test('2377/tcp, 7946/tcp+udp and 4789/udp open to the other nodes only, kept by the exact-rules list', () => {
    const rules = swarmUfwRules(['10.0.0.3', '10.0.0.2', '10.0.0.2']);
    assert.deepEqual(rules.slice(0, 4), [
      'ufw allow from 10.0.0.2 to any port 2377 proto tcp',
      'ufw allow from 10.0.0.2 to any port 7946 proto tcp',
      'ufw allow from 10.0.0.2 to any port 7946 proto udp',
      'ufw allow from 10.0.0.2 to any port 4789 proto udp',
    ]);
    assert.equal(rules.length, 8);
    const s = renderHardening(host, [], { swarmPeers: ['10.0.0.2'] });
    for (const r of swarmUfwRules(['10.0.0.2'])) {
      assert.ok(s.includes(`${r} >/dev/null`), `applies ${r}`);
      assert.ok(s.includes(`'${r}'`), `keeps ${r} among the wanted rules (not deleted as a stray rule)`);
    }
    assert.ok(renderHardeningCheck(host, [], { swarmPeers: ['10.0.0.2'] }).includes(`'${rules[0]!.replace('10.0.0.3', '10.0.0.2')}'`));
    assert.doesNotMatch(renderHardening(host), /2377/, 'a host outside a cluster opens nothing more');
    assert.doesNotMatch(s, /ufw allow 2377/, 'never open to everyone');
    const sh = spawnSync('sh', ['-n'], { input: s });
    assert.equal(sh.status, 0, `the script parses: ${sh.stderr}`);
  });
});

describe('a cluster app as the planners see it', () => {
  const current = { release: 'v2-a', colour: 'green', previous: { release: 'v1-a', colour: 'blue' }, switchedAt: '2026-01-01T00:00:00Z' };
  const rec = (id: string, colour: string) => JSON.stringify({ id, app: 'shop', tag: id, image: 'x', colour, configHash: 'c', secretsHash: 'S', createdAt: `2026-01-0${id[1]}T00:00:00Z`, host: 'main' });
  const obs = (blue: string, green: string) =>
    ['--lock', '--swarm-route', '-green@swarm', '--retiring', '--current', JSON.stringify(current), '--releases', rec('v1-a', 'blue'), rec('v2-a', 'green'),
      '--services', `S1|berth-shop_web-blue|v1-a|${blue.split('/')[1]}`, `S2|berth-shop_web-green|v2-a|${green.split('/')[1]}`, 'S3|berth-shop_worker-jobs|v2-a|2', 'S4|other_web|x|1',
      '--running', `berth-shop_web-blue|${blue}`, `berth-shop_web-green|${green}`, 'berth-shop_worker-jobs|2/2', '--image', '--lock', '--end'].join('\n');

  test('services become the colours the per-host planner decides on', () => {
    const s = parseClusterObservation(obs('3/3', '3/3'), 'shop');
    assert.equal(s.routedColour, 'green');
    assert.deepEqual(s.services.map((x) => [x.name, x.releaseId, x.desired, x.running]), [['web-blue', 'v1-a', 3, 3], ['web-green', 'v2-a', 3, 3], ['worker-jobs', 'v2-a', 2, 2]]);
    assert.deepEqual(s.containers.map((c) => [c.service, c.state, c.health]), [['web-blue', 'running', 'healthy'], ['web-green', 'running', 'healthy']]);
    assert.equal(planDeploy(s, 'v2-a', 'S').kind, 'noop');
    const d = planDeploy(s, 'v3-a', 'S');
    assert.equal(d.kind, 'deploy');
    assert.equal(d.kind === 'deploy' && d.colour, 'blue');
    const r = planRollback(s);
    assert.equal(r.kind === 'rollback' && r.target.id, 'v1-a');
  });

  test('a colour scaled to 0 is stopped; one that lost a node still serves (degraded)', () => {
    const s = parseClusterObservation(obs('0/0', '2/3'), 'shop');
    assert.deepEqual(s.containers.map((c) => [c.service, c.state, c.health]), [['web-blue', 'exited', undefined], ['web-green', 'running', 'starting']]);
    assert.equal(planDeploy(s, 'v2-a', 'S').kind, 'noop', 'a degraded but serving release is not redeployed');
    assert.equal(tasksHealthy('3/3 tasks'), true);
    assert.equal(tasksHealthy('2/3 tasks'), false);
    assert.equal(tasksHealthy('0/0 tasks'), false);
  });

  test('logs: every task line prefixed with its node and task', () => {
    const text = [
      '2026-12-07T01:29:45.357Z berth-shop_web-blue.1.sx094m4y6q51smr7o90rnm736@h8    | testapp[v1] GET /up 200',
      'berth-shop_web-blue.3.abcdefabcdefabcdef@h9    | line two',
      'unrelated line',
    ].join('\n');
    assert.equal(prefixServiceLogs(text, 'berth-shop_web-blue'), ['h8/1.sx094m4y6q51 | 2026-12-07T01:29:45.357Z testapp[v1] GET /up 200', 'h9/3.abcdefabcdef | line two', 'unrelated line'].join('\n'));
  });
});

test('logs: a task removed between its listing and its logs is read again once; anything else is printed as it comes', async () => {
  const gone = 'Error response from daemon: task k2b3c4d5e6f7 not found';
  assert.match(gone, LOGS_TASK_GONE);
  assert.match('error from daemon in stream: Error grabbing logs: no such task: k2b3', LOGS_TASK_GONE);
  assert.doesNotMatch('Error response from daemon: service berth-shop_web-blue not found', LOGS_TASK_GONE);
  assert.doesNotMatch('web-blue.1.k2b3@h7 | task 12 not found in queue', LOGS_TASK_GONE, "an app's own log line is never held back");
  type Line = [string, 'stdout' | 'stderr'];
  const fake = (runs: { lines: Line[]; code: number }[]) => {
    const printed: string[] = [];
    let calls = 0;
    const run = async (onLine: (l: string, f: 'stdout' | 'stderr') => void) => {
      const r = runs[calls++]!;
      for (const [l, f] of r.lines) onLine(l, f);
      return r.code;
    };
    return { printed, run, calls: () => calls };
  };
  // Gone before any line: read again; only the second read's lines are printed.
  let f = fake([{ lines: [[gone, 'stderr']], code: 1 }, { lines: [['web.1.x@h7 | started', 'stdout']], code: 0 }]);
  assert.equal(await readServiceLogs(f.run, (l) => f.printed.push(l), 0), 0);
  assert.deepEqual([f.calls(), f.printed], [2, ['web.1.x@h7 | started']]);
  // Gone twice: the second answer is printed and its exit code returned.
  f = fake([{ lines: [[gone, 'stderr']], code: 1 }, { lines: [[gone, 'stderr']], code: 1 }]);
  assert.equal(await readServiceLogs(f.run, (l) => f.printed.push(l), 0), 1);
  assert.deepEqual([f.calls(), f.printed], [2, [gone]]);
  // After lines, or with any other error: one read, everything printed.
  f = fake([{ lines: [['web.1.x@h7 | a', 'stdout'], [gone, 'stderr']], code: 1 }]);
  assert.equal(await readServiceLogs(f.run, (l) => f.printed.push(l), 0), 1);
  assert.deepEqual([f.calls(), f.printed], [1, ['web.1.x@h7 | a', gone]]);
  f = fake([{ lines: [['Error response from daemon: This node is not a swarm manager.', 'stderr']], code: 1 }]);
  assert.equal(await readServiceLogs(f.run, (l) => f.printed.push(l), 0), 1);
  assert.equal(f.calls(), 1);
});
