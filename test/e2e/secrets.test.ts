// Secrets never in `docker inspect`: an app with secrets, an env value built from a secret, a
// worker, a release command, Litestream and a Postgres accessory with its pg_dump loop is
// deployed; every container Berth starts (colours, worker, the release command's one-off
// container, replicator, accessory, backup loop, the edge) is inspected for every value; the
// processes still see their values (web, worker, exec, the release command, Litestream through
// backup:verify), and the release runs by hand with `docker compose --env-file` on the host.
// Secrets belong to a release: after a failed rollback, a failed deploy, a `docker restart` and a
// dockerd restart the live release still reads its own values; a no-op checks them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { S3 } from '../../src/sandbox/config.ts';
import { waitFor } from '../../src/sandbox/http.ts';
import { ensureHostImages, H1, makeProject, resetApps, restartDocker, type TestProject } from './support/project.ts';

const RUN = randomBytes(3).toString('hex');
const APP = `flt-sec${RUN}`;
const PROJECT = `berth-${APP}`;
const SECRET = `app-secret-${randomBytes(6).toString('hex')}`;
const DB_PASSWORD = `db-pw-${randomBytes(6).toString('hex')}`;
// Tags of its own: the failed rollback removes one.
const IMAGE = `flt-sec${RUN}/testapp`;
const env = { APP_SECRET: SECRET, POSTGRES_PASSWORD: DB_PASSWORD, LITESTREAM_ACCESS_KEY_ID: S3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: S3.secretAccessKey };
const VALUES = [SECRET, DB_PASSWORD, S3.secretAccessKey];

let p: TestProject;
const docker = (...args: string[]) => execFileSync('docker', ['--context', H1.context, ...args], { encoding: 'utf8' }).trim();
const onHost = (script: string) =>
  execFileSync('ssh', ['-p', String(H1.sshPort), `${H1.sshUser}@${H1.sshHost}`, script], { encoding: 'utf8' }).trim();
const containers = () => docker('ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`).split('\n').filter(Boolean);
const serviceContainer = (service: string) =>
  docker('ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', `label=com.docker.compose.service=${service}`);
const envOf = (id: string, keys: string) => JSON.parse(docker('exec', id, 'curl', '-fsS', `http://127.0.0.1:80/env?keys=${keys}`)) as Record<string, string>;

const config = (over: Record<string, unknown> = {}) => ({
    image: IMAGE,
    hosts: ['h1'],
    domains: [`${APP}.berth.test`],
    tls: { mode: 'none' },
    port: 80,
    healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 5, start_period: '1s' },
    volumes: { data: '/data' },
    env: { PLAIN: 'plain-value', DSN: 'user:${APP_SECRET}@db/x' },
    secrets: ['APP_SECRET', 'POSTGRES_PASSWORD', 'LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
    // Slow enough to inspect its one-off container while it runs.
    release_command: 'sh -c "sleep 4 && testapp migrate"',
    workers: { jobs: { command: 'testapp' } },
    accessories: {
      db: { image: 'postgres:16', env: { POSTGRES_USER: 'app', POSTGRES_DB: 'app' }, secrets: ['POSTGRES_PASSWORD'], healthcheck: { command: 'pg_isready -U app -d app' }, backup: { schedule: 'daily', keep: 2 } },
    },
    litestream: {
      databases: ['/data/app.sqlite3'],
      replica: { url: `s3://${S3.bucket}/e2e-${RUN}/flt`, endpoint: S3.networkEndpoint, force_path_style: true },
    },
    deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 30 },
    ...over,
});

/** docker inspect of the release command's one-off container, taken while it runs. */
let oneOff = '';

before(async () => {
  ensureHostImages(['berth/testapp:v1']);
  for (const v of ['v1', 'v2', 'v3']) docker('tag', 'berth/testapp:v1', `${IMAGE}:${v}`);
  p = makeProject('berth-e2e-flt-');
  p.writeApp(APP, config());
  const setup = await p.berth('setup', ['h1'], env);
  assert.equal(setup.code, 0, setup.all);
  let done: { all: string } | undefined;
  const deploying = p.berth('deploy', [APP, '--release', 'v1'], env).then((r) => (done = r));
  let id = '';
  for (let i = 0; i < 900 && !done && !id; i++) {
    id = docker('ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', 'label=com.docker.compose.oneoff=True');
    if (!id) await new Promise((res) => setTimeout(res, 200));
  }
  if (!id) assert.fail(`the release command's container was not seen running; the deploy said:\n${(done as { all: string } | undefined)?.all ?? '(still running)'}`);
  oneOff = docker('inspect', id);
  const r = await deploying;
  assert.equal(r.code, 0, r.all);
});

after(() => {
  resetApps([APP]);
  for (const v of ['v1', 'v2', 'v3']) {
    try {
      execFileSync('docker', ['--context', H1.context, 'rmi', `${IMAGE}:${v}`], { stdio: 'ignore' });
    } catch {
      /* removed by the test */
    }
  }
  p?.cleanup();
});

test('no secret value in docker inspect of any container Berth starts', () => {
  const ids = containers();
  const services = ids.map((id) => docker('inspect', '-f', '{{index .Config.Labels "com.docker.compose.service"}}', id)).sort();
  assert.deepEqual(services, ['db', 'db-backup', 'litestream', 'web-blue', 'worker-jobs']);
  assert.match(oneOff, /"com\.docker\.compose\.oneoff": "True"/, 'the release command container was caught running');
  const edge = docker('ps', '-aq', '--filter', 'label=com.docker.compose.project=berth-edge').split('\n').filter(Boolean);
  assert.equal(edge.length, 2, 'traefik and the socket proxy');
  const inspect = docker('inspect', ...ids, ...edge) + oneOff;
  for (const v of VALUES) assert.ok(!inspect.includes(v), `a secret value appears in docker inspect of ${services.join(', ')}, the release command or the edge`);
  assert.doesNotMatch(inspect, /LITESTREAM_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)=/, 'Litestream keys are not container env');
  assert.match(docker('inspect', '-f', '{{json .Config.Env}}', serviceContainer('db')), /POSTGRES_PASSWORD_FILE=\/run\/secrets\/POSTGRES_PASSWORD/);
});

test('the accessory and its pg_dump loop read the password from the file', () => {
  const dump = docker('exec', serviceContainer('db-backup'), 'sh', '-c', 'PGPASSWORD=$(cat $POSTGRES_PASSWORD_FILE) psql -h db -U app -d app -tAc "select 42"');
  assert.equal(dump, '42');
});

test('a secret interpolated into an accessory env is refused before any host is touched', async () => {
  const live = onHost(`cat /var/lib/berth/apps/${APP}/current.json`);
  p.writeApp(APP, config({ accessories: { db: { image: 'postgres:16', secrets: ['POSTGRES_PASSWORD'], env: { DATABASE_URL: 'postgres://app:${POSTGRES_PASSWORD}@db/app' } } } }));
  try {
    const r = await p.berth('deploy', [APP, '--release', 'v1'], env);
    assert.equal(r.code, 1, r.all);
    assert.match(r.stderr, new RegExp(`apps/${APP}/app\\.yml: accessories\\.db\\.env\\.DATABASE_URL: expected a value without .*list POSTGRES_PASSWORD under accessories\\.db\\.secrets`));
    assert.ok(!r.all.includes(DB_PASSWORD));
    assert.equal(onHost(`cat /var/lib/berth/apps/${APP}/current.json`), live, 'nothing changed on the host');
  } finally {
    p.writeApp(APP, config());
  }
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

/** The live colour's container, once running and healthy (after a restart of it or of dockerd). */
const liveWeb = async (colour: string) =>
  waitFor(`web-${colour} healthy`, async () => {
    const id = serviceContainer(`web-${colour}`);
    return id && docker('inspect', '-f', '{{.State.Health.Status}}', id) === 'healthy' ? id : undefined;
  }, { timeoutMs: 60_000, intervalMs: 300 });
const current = () => JSON.parse(onHost(`cat /var/lib/berth/apps/${APP}/current.json`)) as { release: string; colour: string };
const outcome = (stdout: string) => (JSON.parse(stdout) as { result: string; release: string; colour: string }[])[0]!;

test('secrets belong to a release: a failed rollback, a failed deploy, restarts and a no-op leave the live release its own values', async () => {
  const S2 = `app-secret-two-${randomBytes(6).toString('hex')}`;
  const S3v = `app-secret-three-${randomBytes(6).toString('hex')}`;
  const env2 = { ...env, APP_SECRET: S2 };
  const v2 = await p.berth('deploy', [APP, '--release', 'v2', '--json'], env2);
  assert.equal(v2.code, 0, v2.all);
  const live = outcome(v2.stdout);
  assert.equal(envOf(await liveWeb(live.colour), 'APP_SECRET').APP_SECRET, S2);
  // The rollback to v1 (other values) fails after reading its release: v1's image is gone.
  const old = live.colour === 'blue' ? 'green' : 'blue';
  await waitFor('v1 retired', async () => (docker('ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', `label=com.docker.compose.service=web-${old}`) ? undefined : true), { timeoutMs: 30_000, intervalMs: 500 });
  docker('rmi', `${IMAGE}:v1`);
  const rb = await p.berth('rollback', [APP], env);
  assert.notEqual(rb.code, 0, rb.all);
  assert.match(rb.all, /is missing on h1/);
  // The live colour restarted (crash, docker restart): still its own values.
  docker('restart', serviceContainer(`web-${live.colour}`));
  assert.equal(envOf(await liveWeb(live.colour), 'APP_SECRET,DSN').APP_SECRET, S2, 'a failed rollback changed the live release\'s secret');
  docker('restart', serviceContainer('worker-jobs'));
  assert.equal(envOf(serviceContainer('worker-jobs'), 'APP_SECRET').APP_SECRET, S2);
  // A failed deploy of other values (its release command fails after the upload).
  p.writeApp(APP, config({ release_command: 'sh -c "exit 3"' }));
  const bad = await p.berth('deploy', [APP, '--release', 'v3'], { ...env, APP_SECRET: S3v });
  p.writeApp(APP, config());
  assert.notEqual(bad.code, 0, bad.all);
  assert.match(bad.all, /release command/);
  // The whole engine restarts (as after a reboot): containers come back with their own mounts.
  await restartDocker(H1);
  assert.equal(envOf(await liveWeb(live.colour), 'APP_SECRET').APP_SECRET, S2, 'after a failed deploy and a dockerd restart');
  assert.equal(current().release, live.release);
  // By hand with the live env file: still the live release's values.
  const byHand = onHost(`cd /var/lib/berth/apps/${APP}/releases/${live.release} && docker compose -p ${PROJECT} --env-file /etc/berth/${APP}/secrets.env -f compose.yml run --rm --no-deps -T web-${old} printenv APP_SECRET`);
  assert.equal(byHand.split('\n').pop(), S2);
  // A no-op checks the values: unchanged → nothing to do; the live set's file changed → deployed again.
  const same = await p.berth('deploy', [APP, '--release', 'v2', '--json'], env2);
  assert.equal(same.code, 0, same.all);
  assert.equal(outcome(same.stdout).result, 'noop', same.all);
  const set = docker('inspect', '-f', '{{index .Config.Labels "berth.secrets"}}', serviceContainer(`web-${live.colour}`));
  onHost(`f=/etc/berth/${APP}/sets/${set}/APP_SECRET; chmod 644 $f; printf tampered > $f`);
  const fixed = await p.berth('deploy', [APP, '--release', 'v2', '--json'], env2);
  assert.equal(fixed.code, 0, fixed.all);
  assert.equal(outcome(fixed.stdout).result, 'deployed', 'a changed secret file is not "nothing changed"');
  assert.equal(envOf(await liveWeb(outcome(fixed.stdout).colour), 'APP_SECRET').APP_SECRET, S2);
  // Both colours, every service and the edge, after all of it: still no value in docker inspect.
  const all = docker('inspect', ...containers(), ...docker('ps', '-aq', '--filter', 'label=com.docker.compose.project=berth-edge').split('\n').filter(Boolean));
  for (const v of [...VALUES, S2, S3v]) assert.ok(!all.includes(v), 'a secret value appears in docker inspect');
});

test('a rollback to the colour that still runs puts its secret set back (in the record\'s round trip)', async () => {
  // A retire window long enough for the rollback to find the previous colour running.
  p.writeApp(APP, config({ deploy: { retire_seconds: 120, stop_timeout_seconds: 5, health_timeout_seconds: 30 } }));
  try {
    const S2 = `app-secret-two-${randomBytes(6).toString('hex')}`;
    const S4 = `app-secret-four-${randomBytes(6).toString('hex')}`;
    const v2 = await p.berth('deploy', [APP, '--release', 'v2', '--json'], { ...env, APP_SECRET: S2 });
    assert.equal(v2.code, 0, v2.all);
    const was = outcome(v2.stdout);
    const set = docker('inspect', '-f', '{{index .Config.Labels "berth.secrets"}}', serviceContainer(`web-${was.colour}`));
    const v3 = await p.berth('deploy', [APP, '--release', 'v3', '--json'], { ...env, APP_SECRET: S4 });
    assert.equal(v3.code, 0, v3.all);
    assert.notEqual(outcome(v3.stdout).colour, was.colour);
    // v2's set goes missing while its colour still runs.
    onHost(`rm -rf /etc/berth/${APP}/sets/${set}`);
    const rb = await p.berth('rollback', [APP, '--json'], env);
    assert.equal(rb.code, 0, rb.all);
    const [o] = JSON.parse(rb.stdout) as { release: string; colour: string; reused: boolean; timings: Record<string, number> }[];
    assert.equal(o!.colour, was.colour);
    assert.equal(o!.reused, true, 'the running colour was reused');
    assert.equal('secret files' in o!.timings, false, 'a healthy running colour needs no round trip of its own for its secret files');
    assert.equal(onHost(`cat /etc/berth/${APP}/sets/${set}/APP_SECRET`), S2, 'the rolled-back release\'s secret set is back on the host');
    assert.equal(onHost(`stat -c %a /etc/berth/${APP}/sets/${set}`), '700');
    assert.equal(current().release, was.release);
    // The record's round trip is also where the env file of the live release is written.
    assert.ok(onHost(`cat /etc/berth/${APP}/secrets.env`).includes(`APP_SECRET="${S2}"`), 'secrets.env holds the rolled-back release\'s values');
  } finally {
    p.writeApp(APP, config());
  }
});
