// Secrets never in `docker inspect`: an app with secrets, an env value built from a secret, a
// worker, a release command and Litestream is deployed; every container of its project is
// inspected for every value; the processes still see their values (web, worker, exec, the
// release command, Litestream through backup:verify), and the release runs by hand with
// `docker compose --env-file` on the host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { S3 } from '../../src/sandbox/config.ts';
import { H1, makeProject, resetApps, type TestProject } from './support/project.ts';

const RUN = randomBytes(3).toString('hex');
const APP = `flt-sec${RUN}`;
const PROJECT = `berth-${APP}`;
const SECRET = `app-secret-${randomBytes(6).toString('hex')}`;
const env = { APP_SECRET: SECRET, LITESTREAM_ACCESS_KEY_ID: S3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: S3.secretAccessKey };
const VALUES = [SECRET, S3.secretAccessKey];

let p: TestProject;
const docker = (...args: string[]) => execFileSync('docker', ['--context', H1.context, ...args], { encoding: 'utf8' }).trim();
const onHost = (script: string) =>
  execFileSync('ssh', ['-p', String(H1.sshPort), `${H1.sshUser}@${H1.sshHost}`, script], { encoding: 'utf8' }).trim();
const containers = () => docker('ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`).split('\n').filter(Boolean);
const serviceContainer = (service: string) =>
  docker('ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', `label=com.docker.compose.service=${service}`);
const envOf = (id: string, keys: string) => JSON.parse(docker('exec', id, 'curl', '-fsS', `http://127.0.0.1:80/env?keys=${keys}`)) as Record<string, string>;

before(async () => {
  p = makeProject('berth-e2e-flt-');
  p.writeApp(APP, {
    image: 'berth/testapp:v1',
    hosts: ['h1'],
    domains: [`${APP}.berth.test`],
    tls: { mode: 'none' },
    port: 80,
    healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 5, start_period: '1s' },
    volumes: { data: '/data' },
    env: { PLAIN: 'plain-value', DSN: 'user:${APP_SECRET}@db/x' },
    secrets: ['APP_SECRET', 'LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
    release_command: 'testapp migrate',
    workers: { jobs: { command: 'testapp' } },
    litestream: {
      databases: ['/data/app.sqlite3'],
      replica: { url: `s3://${S3.bucket}/e2e-${RUN}/flt`, endpoint: S3.networkEndpoint, force_path_style: true },
    },
    deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 30 },
  });
  const setup = await p.berth('setup', ['h1'], env);
  assert.equal(setup.code, 0, setup.all);
  const r = await p.berth('deploy', [APP, '--release', 'v1'], env);
  assert.equal(r.code, 0, r.all);
});

after(() => {
  resetApps([APP]);
  p?.cleanup();
});

test('no secret value in docker inspect of any container of the app', () => {
  const ids = containers();
  const services = ids.map((id) => docker('inspect', '-f', '{{index .Config.Labels "com.docker.compose.service"}}', id)).sort();
  assert.deepEqual(services, ['litestream', 'web-blue', 'worker-jobs']);
  const inspect = docker('inspect', ...ids);
  for (const v of VALUES) assert.ok(!inspect.includes(v), `a secret value appears in docker inspect of ${services.join(', ')}`);
  assert.doesNotMatch(inspect, /LITESTREAM_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)=/, 'Litestream keys are not container env');
});

test('the processes still get their values: web, worker, exec and the release command', async () => {
  const web = envOf(serviceContainer('web-blue'), 'APP_SECRET,DSN,PLAIN,BERTH_IMAGE_CMD');
  assert.deepEqual(web, { APP_SECRET: SECRET, DSN: `user:${SECRET}@db/x`, PLAIN: 'plain-value' });
  const worker = envOf(serviceContainer('worker-jobs'), 'APP_SECRET,DSN');
  assert.deepEqual(worker, { APP_SECRET: SECRET, DSN: `user:${SECRET}@db/x` });
  const ex = await p.berth('exec', [APP, 'printenv', 'DSN'], env);
  assert.equal(ex.code, 0, ex.all);
  assert.match(ex.stdout, /user:.*@db\/x/);
  const migrations = docker('exec', serviceContainer('web-blue'), 'curl', '-fsS', 'http://127.0.0.1:80/migrations');
  assert.match(migrations, /v1/, 'the release command ran through the wrapper');
});

test('Litestream reads its keys from the mounted files (replicates; backup:verify restores)', async () => {
  const v = await p.berth('backup-verify', [APP], env);
  assert.equal(v.code, 0, v.all);
  assert.match(v.all, /app\.sqlite3: ok/);
});

test('the release runs by hand on the host with docker compose --env-file', () => {
  const rel = onHost(`cat /var/lib/berth/apps/${APP}/current.json`);
  const id = (JSON.parse(rel) as { release: string }).release;
  const out = onHost(
    `cd /var/lib/berth/apps/${APP}/releases/${id} && docker compose -p ${PROJECT} --env-file /etc/berth/${APP}/secrets.env -f compose.yml run --rm --no-deps -T web-green printenv DSN`,
  );
  assert.equal(out.split('\n').pop(), `user:${SECRET}@db/x`);
});
