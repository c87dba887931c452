// SQLite + Litestream on the swarm (lane swarm): the Rails stand-in with its four databases runs as
// one task pinned to h8 with its replicator beside it; the release command (db:prepare) runs once
// as a job before the colour starts; writes replicate to S3 and `backup:verify` restores them
// equal to the live databases; a second deploy keeps the data and the replicator.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { S3 } from '../../src/sandbox/config.ts';
import { sandboxRequest, waitFor } from '../../src/sandbox/index.ts';
import type { TestProject } from './support/project.ts';
import { onHost } from '../../src/sandbox/fleet.ts';
import { ensureLaneUp, H7, H8, onManager, swarmProject, tasksOf } from './support/swarm-lane.ts';

const RUN = randomBytes(3).toString('hex');
const APP = 'swrails';
const DOMAIN = 'swrails.berth.test';
const PREFIX = `swarm-${RUN}`;
const env = { LITESTREAM_ACCESS_KEY_ID: S3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: S3.secretAccessKey, SECRET_KEY_BASE: 'kb-swarm-rails-3e9d' };
const DBS = ['production', 'production_cache', 'production_queue', 'production_cable'].map((d) => `/rails/storage/${d}.sqlite3`);
let p: TestProject;

const railsConfig = () => ({
  image: 'berth/railsapp',
  cluster: 'sw',
  hosts: ['h8'],
  domains: [DOMAIN],
  tls: { mode: 'none' },
  port: 80,
  healthcheck: { path: '/up', interval: '1s', timeout: '2s', retries: 5, start_period: '3s' },
  volumes: { storage: '/rails/storage' },
  env: { DB_PREPARE_ON_BOOT: '0' },
  secrets: ['SECRET_KEY_BASE', 'LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
  release_command: 'bin/rails db:prepare',
  litestream: { databases: DBS, replica: { url: `s3://${S3.bucket}/${PREFIX}/rails`, endpoint: S3.networkEndpoint, force_path_style: true }, max_lag_seconds: 5 },
  deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 90 },
});

/** Through h7's edge (the manager), as a visitor: the task runs on h8, across the overlay. */
const viaEdge = (path: string, opts: { method?: string; body?: string } = {}) =>
  sandboxRequest(`http://${H7.edgeAddress}${path}`, { headers: { host: DOMAIN, accept: 'application/json', 'content-type': 'application/json' }, timeoutMs: 15_000, ...opts });

describe('Rails + Litestream on the swarm, pinned to h8', { timeout: 900_000 }, () => {
  before(async () => {
    await ensureLaneUp();
    p = swarmProject('berth-e2e-swarm-rails-');
    p.writeApp(APP, railsConfig());
    // The lane may hold a previous run's app: start without it.
    await onManager(`docker stack rm berth-${APP} berth-${APP}-release >/dev/null 2>&1; sleep 3; docker secret ls -q --filter label=berth.app=${APP} | xargs -r docker secret rm >/dev/null 2>&1; rm -rf /var/lib/berth/apps/${APP} /var/lib/berth/edge/dynamic/${APP}.yml; true`);
    await onHost(H8, `i=0; while [ $i -lt 50 ] && [ -n "$(docker ps -aq --filter label=com.docker.stack.namespace=berth-${APP})" ]; do sleep 0.2; i=$((i+1)); done; docker volume rm berth-${APP}_storage >/dev/null 2>&1; true`, { allowFail: true });
    const setup = await p.berth('setup', [], env);
    assert.equal(setup.code, 0, setup.all);
  });

  after(async () => {
    const r = await p?.berth('remove', [APP, '--yes', '--volumes'], env);
    assert.equal(r?.code, 0, r?.all);
    assert.equal((await onHost(H8, `docker volume ls -q --filter name=berth-${APP}_`, { allowFail: true })).stdout.trim(), '', 'remove --volumes removed the database volume on its node');
    execFileSync('sh', ['-c', `rm -rf /var/lib/docker/volumes/berth-sandbox-s3-data/_data/${S3.bucket}/${PREFIX}`]);
    p?.cleanup();
  });

  test('deploy: db:prepare runs once as a job, then one web task and the replicator run on h8', async () => {
    const r = await p.berth('deploy', [APP, '--release', 'v1', '--json'], env);
    assert.equal(r.code, 0, r.all);
    assert.match(r.all, /release command/);
    const [o] = JSON.parse(r.stdout) as { colour: string }[];
    assert.deepEqual((await tasksOf(`berth-${APP}_web-${o!.colour}`)).map((t) => t.node), ['h8']);
    // The replicator starts in the deploy's last stack step (after the release command and the
    // colour): its task is scheduled once `docker stack deploy` returned.
    const replicator = await waitFor('the replicator task running', async () => {
      const ts = await tasksOf(`berth-${APP}_litestream`);
      return ts.length === 1 && /^Running/.test(ts[0]!.state) ? ts : undefined;
    }, { timeoutMs: 60_000, intervalMs: 1000 });
    assert.deepEqual(replicator.map((t) => t.node), ['h8']);
    const home = await waitFor('rails through the edge', async () => {
      const x = await viaEdge('/').catch(() => undefined);
      return x?.status === 200 ? (JSON.parse(x.body) as { release: string; workouts: number }) : undefined;
    }, { timeoutMs: 60_000, intervalMs: 1000 });
    assert.equal(home.release, 'v1');
  });

  test('writes replicate; backup:verify restores every database equal to the live one', async () => {
    for (let i = 0; i < 5; i++) {
      const w = await viaEdge('/workouts', { method: 'POST', body: JSON.stringify({ name: `sw-${i}`, reps: i }) });
      assert.equal(w.status, 201, w.body);
    }
    const v = await p.berth('backup-verify', [APP], env);
    assert.equal(v.code, 0, v.all);
    // Restored from S3 and compared table by table with the live databases on h8 (5 workouts each).
    for (const db of DBS) assert.match(v.all, new RegExp(`h8: ${db.replace(/\./g, '\\.')}: ok — \\d+ tables, row counts match`));
    assert.equal((JSON.parse((await viaEdge('/')).body) as { workouts: number }).workouts, 5);
    const st = await p.berth('backup-status', [APP, '--json'], env);
    assert.equal(st.code, 0, st.all);
  });

  test('a second deploy keeps the data (same node, same volume) and the same replicator', async () => {
    const rep = (await onManager(`docker service ps -q --filter desired-state=running berth-${APP}_litestream`)).stdout.trim();
    const r = await p.berth('deploy', [APP, '--release', 'v2', '--json'], env);
    assert.equal(r.code, 0, r.all);
    const home = JSON.parse((await viaEdge('/')).body) as { release: string; workouts: number };
    assert.equal(home.release, 'v2');
    assert.equal(home.workouts, 5);
    assert.equal((await onManager(`docker service ps -q --filter desired-state=running berth-${APP}_litestream`)).stdout.trim(), rep, 'the replicator task was not replaced');
  });
});
