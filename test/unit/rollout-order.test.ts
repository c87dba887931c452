// The order hosts of a placed app deploy in (rollout-order.ts), and the decisions on a host that runs
// no web (services-plan.ts): what a deploy and a rollback do there.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appSchema, hostSchema, type App } from '../../src/config/schema.ts';
import { placeApp } from '../../src/plan/placement.ts';
import { planRollout } from '../../src/plan/rollout-order.ts';
import { planServicesDeploy, planServicesRollback } from '../../src/plan/services-plan.ts';
import { matchRelease } from '../../src/app/rollback-services.ts';
import type { AppState, ReleaseRecord } from '../../src/exec/state.ts';

const hosts = Object.fromEntries(['h4', 'h5', 'h6', 'h7'].map((h, i) => [h, hostSchema.parse({ ssh: `root@192.0.2.${i + 4}`, private_ip: `10.0.0.${i + 4}` })]));
const app = (config: Record<string, unknown>): App => ({ name: 'a', dir: '/p/apps/a', file: 'apps/a/app.yml', config: appSchema.parse({ image: 'x/a', ...config }) });
const topo = app({
  hosts: ['h4', 'h5'],
  workers: { jobs: { command: 'j', hosts: ['h7'] } },
  accessories: { db: { image: 'postgres:16', host: 'h6', port: '5432:5432', volumes: { d: '/d' } } },
});

test('the database host first (alone), then the web hosts rolling, then the worker-only host; web and workers wait for the database', () => {
  const p = placeApp(topo, hosts);
  assert.deepEqual(planRollout(p, p.hosts, undefined), { batches: [['h6'], ['h4', 'h5'], ['h7']], needs: { h4: ['h6'], h5: ['h6'], h7: ['h6'] }, providers: ['h6'] });
  assert.deepEqual(planRollout(p, p.hosts, 1).batches, [['h6'], ['h4'], ['h5'], ['h7']]);
  // --hosts h5: only it, and it still reaches (but does not wait for) h6.
  assert.deepEqual(planRollout(p, ['h5'], undefined), { batches: [['h5']], needs: {}, providers: [] });
});

test('an accessory beside web: its host leads the rolling batches; the fleet-certificate issuer still goes alone first', () => {
  const p = placeApp(app({ hosts: ['h4', 'h5'], accessories: { redis: { image: 'redis:7', host: 'h5', port: '6379:6379' } } }), hosts);
  assert.deepEqual(planRollout(p, p.hosts, undefined).batches, [['h5', 'h4']]);
  assert.deepEqual(planRollout(p, p.hosts, undefined, 'h4').batches, [['h4'], ['h5']]);
  assert.deepEqual(planRollout(p, p.hosts, undefined).needs, { h4: ['h5'] });
});

test('every process on every host: the batches are what they were before placement', () => {
  const p = placeApp(app({ hosts: ['h4', 'h5'], accessories: { redis: { image: 'redis:7' } } }), hosts);
  assert.deepEqual(planRollout(p, p.hosts, 1, 'h5'), { batches: [['h5'], ['h4']], needs: {}, providers: [] });
});

const rec = (id: string, createdAt: string): ReleaseRecord => ({ id, app: 'a', tag: id, image: '', configHash: 'c', secretsHash: 's', createdAt, host: 'h6' });
const state = (over: Partial<AppState> = {}): AppState => ({
  current: { release: 'v1-c', previous: null, switchedAt: 't' } as unknown as AppState['current'],
  releases: [rec('v1-c', '1')],
  containers: [{ id: 'c1', name: 'db', service: 'db', state: 'running', status: 'Up' }],
  ...over,
});

test('a host without web: nothing to do when the release is live and its services run; otherwise deploy, remembering the previous', () => {
  assert.equal(planServicesDeploy(state(), 'v1-c', 's', ['db']).kind, 'noop');
  assert.deepEqual(planServicesDeploy(state(), 'v2-c', 's', ['db']), { kind: 'deploy', previous: 'v1-c' });
  assert.deepEqual(planServicesDeploy(state(), 'v1-c', 's', ['db', 'db-backup']), { kind: 'deploy', previous: null }, 'a service that is not running');
  assert.equal(planServicesDeploy(state(), 'v1-c', 'other', ['db']).kind, 'deploy', 'changed secrets');
  assert.equal(planServicesDeploy(state({ lockHolder: '{}' }), 'v1-c', 's', ['db']).kind, 'deploy', 'another deploy held the lock: decide under it');
  assert.equal(planServicesDeploy(state({ lockHolder: '{}' }), 'v1-c', 's', ['db'], { underLock: true }).kind, 'noop');
});

test('rollback on a host without web: back to the previous or named release; a pulled release id with an image suffix matches', () => {
  const s = state({ current: { release: 'v2-c', previous: { release: 'v1-c' }, switchedAt: 't' } as unknown as AppState['current'], releases: [rec('v1-c', '1'), rec('v2-c', '2')] });
  const d = planServicesRollback(s);
  assert.equal(d.kind === 'rollback' && d.target.id, 'v1-c');
  assert.equal(matchRelease(s, 'v1-c-0123456789ab'), 'v1-c', 'an accessory-only host records no image id');
  assert.deepEqual(planServicesRollback(s, 'v2-c'), { kind: 'refuse', reason: 'release v2-c is already live' });
  assert.equal(planServicesRollback(state()).kind, 'refuse');
});
