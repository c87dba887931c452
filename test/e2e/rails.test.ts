// The Rails stand-in for wombatworkouts: migrations run by the release command before cutover,
// data in its four SQLite databases survives a deploy and a rollback; day-two operations
// (status, logs, exec, aliases); and a deploy whose SSH connection drops midway.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { httpsRequest, waitFor } from '../../src/sandbox/http.ts';
import { REPO_ROOT } from '../../src/sandbox/paths.ts';
import { hostSpec } from '../../src/sandbox/config.ts';
import { berthArgv, cutSsh, makeProject, resetApps, restoreSsh, routeDomain, type TestProject, unrouteDomainHost } from './support/project.ts';

// The edge lane's machine (test/e2e/lanes.ts): this file runs beside the main lane.
const H = hostSpec('h12');

const APP = 'wombat';
const DOMAIN = 'wombat.berth.test';
const env = { SECRET_KEY_BASE: 'kb-rails-e2e-9f3c1a7d' };
let p: TestProject;

const railsConfig = (extraEnv: Record<string, string> = {}) => ({
  image: 'berth/railsapp',
  hosts: [H.name],
  domains: [DOMAIN],
  port: 80,
  // Rails boots in ~5 s quiet and 15+ s on a loaded host: checks failing meanwhile must not count (Docker's
  // start_period; a passing check still ends it at once), or the gate sees "unhealthy" and fails.
  healthcheck: { path: '/up', interval: '1s', timeout: '2s', retries: 5, start_period: '30s' },
  volumes: { storage: '/rails/storage' },
  // The image would migrate at boot (like Rails 8); off, so only the release command can migrate.
  env: { DB_PREPARE_ON_BOOT: '0', ...extraEnv },
  secrets: ['SECRET_KEY_BASE'],
  release_command: 'bin/rails db:prepare',
  aliases: { console: 'bin/rails runner "puts Workout.count"', shell: 'sh', dbc: 'sqlite3 storage/production.sqlite3 "select count(*) from workouts"', logs: 'berth:logs' },
  deploy: { retire_seconds: 3, stop_timeout_seconds: 10, health_timeout_seconds: 60 },
});

interface Home {
  release: string;
  workouts: number;
  workout_columns: string[];
  cache_entries: number;
  queue_jobs: number;
  cable_messages: number;
}

async function home(): Promise<Home> {
  const r = await httpsRequest(`https://${DOMAIN}/`, { headers: { accept: 'application/json' } });
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as Home;
}

const deploy = (release: string) => p.berth('deploy', [APP, '--release', release, '--json'], env);

async function addWorkouts(n: number, tag: string) {
  for (let i = 0; i < n; i++) {
    const r = await httpsRequest(`https://${DOMAIN}/workouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `${tag}-${i}`, reps: i }),
    });
    assert.equal(r.status, 201, r.body);
  }
}

before(async () => {
  resetApps([APP], H);
  await routeDomain(DOMAIN, H);
  p = makeProject('berth-e2e-', [H]);
  p.writeApp(APP, railsConfig());
  const setup = await p.berth('setup', [H.name], env);
  assert.equal(setup.code, 0, setup.all);
});

after(async () => {
  resetApps([APP], H);
  await unrouteDomainHost(DOMAIN);
  p?.cleanup();
});

test('Rails v1 deploys: db:prepare creates all four databases before the app serves', async () => {
  const r = await deploy('v1');
  assert.equal(r.code, 0, r.all);
  const h = await waitFor('wombat over HTTPS', async () => (await home().catch(() => undefined)) ?? false, { timeoutMs: 60_000, intervalMs: 1000 });
  assert.equal(h.release, 'v1');
  assert.equal(h.workouts, 0);
  await addWorkouts(5, 'v1');
  const after = await home();
  assert.equal(after.workouts, 5);
  assert.equal(after.queue_jobs, 5, 'writes reach the queue database too');
  assert.equal(after.cable_messages, 5, 'and the cable database');
  assert.equal(after.cache_entries, 1, 'the cache holds one upserted key');
  const files = execFileSync('docker', ['--context', H.context, 'run', '--rm', '-v', 'berth-wombat_storage:/s', 'berth/base:bookworm', 'ls', '/s'], { encoding: 'utf8' });
  for (const db of ['production.sqlite3', 'production_cache.sqlite3', 'production_queue.sqlite3', 'production_cable.sqlite3']) assert.match(files, new RegExp(db.replace('.', '\\.')));
});

test('v2 migrates before cutover and keeps the data', async () => {
  const r = await deploy('v2');
  assert.equal(r.code, 0, r.all);
  // The very first answer from v2 already sees the new column: the release command migrated
  // before any request reached v2 (the image's own boot-time migration is switched off).
  const h = await home();
  assert.equal(h.release, 'v2');
  assert.ok(h.workout_columns.includes('duration_seconds'), `columns: ${h.workout_columns}`);
  assert.equal(h.workouts, 5, 'rows written on v1 survive');
  await addWorkouts(2, 'v2');
  assert.equal((await home()).workouts, 7);
});

test('rollback to v1 keeps every row, including those written on v2', async () => {
  const r = await p.berth('rollback', [APP], env);
  assert.equal(r.code, 0, r.all);
  const h = await home();
  assert.equal(h.release, 'v1');
  assert.equal(h.workouts, 7);
  assert.equal(h.queue_jobs, 7, 'queue rows written on v2 survive too');
});

test('status lists the app with its release, colour, health and certificate expiry', async () => {
  const r = await p.berth('status', ['--json'], env);
  assert.equal(r.code, 0, r.all);
  const rows = JSON.parse(r.stdout) as { app: string; release: string; colour: string; health: string; certificate: { domain: string; expires?: string }[] }[];
  const row = rows.find((x) => x.app === APP)!;
  assert.match(row.release, /^v1-/);
  assert.equal(row.health, 'healthy');
  assert.ok(row.certificate[0]?.expires && Date.parse(row.certificate[0].expires) > Date.now(), JSON.stringify(row.certificate));
  const table = await p.berth('status', [], env);
  assert.match(table.stdout, /HOST\s+APP\s+RELEASE/);
  assert.match(table.stdout, new RegExp(`${H.name}\\s+${APP}\\s+v1-`));
});

test('logs, exec and the aliases from app config reach the live container', async () => {
  const logs = await p.berth('logs', [APP, '--tail', '20'], env);
  assert.equal(logs.code, 0, logs.all);
  assert.match(logs.all, /GET|Puma|Listening/);
  const ex = await p.berth('exec', [APP, 'sh', '-c', 'echo release=$RELEASE'], env);
  assert.equal(ex.code, 0, ex.all);
  assert.match(ex.stdout, /release=v1/);
  const dbc = await p.berth('alias', ['dbc', APP], env);
  assert.equal(dbc.code, 0, dbc.all);
  assert.match(dbc.stdout, /^7$/m);
  const unknown = await p.berth('alias', ['nope', APP], env);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /no alias "nope".*console, shell, dbc, logs|aliases: /);
});

test('an SSH connection dropped mid-deploy leaves the old release serving; rerunning converges', async () => {
  p.writeApp(APP, railsConfig({ SLOW_BOOT_MARK: '1' }));
  // Kill the host's SSH sessions as soon as the new colour is being started.
  const child = spawn(...berthArgv('deploy', [APP, '--release', 'v2']), {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, BERTH_ROOT: p.root, CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let dropped: Promise<void> | undefined;
  child.stderr.on('data', (d) => {
    stderr += d;
    if (!dropped && /start \+ health/.test(stderr)) {
      // The host's SSH goes away with every session (its firewall resets them and refuses new ones:
      // an outage, not a blip, which each Docker API call survives by dialling anew); it comes
      // back after the deploy gave up.
      dropped = cutSsh(H);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const code: number = await new Promise((r) => child.on('close', (c) => r(c ?? 1)));
  clearTimeout(timer);
  await dropped;
  await restoreSsh(H);
  assert.ok(dropped, 'the connection was dropped during the deploy');
  assert.notEqual(code, 0, `deploy fails when its connection drops:\n${stderr}`);
  assert.equal((await home()).release, 'v1', 'old release keeps serving');
  const again = await deploy('v2');
  assert.equal(again.code, 0, again.all);
  assert.match(again.all, /took over a lock left by a dead deploy/, 'the lock the dropped deploy could not release is taken over');
  assert.equal((await home()).release, 'v2');
  assert.equal((await home()).workouts, 7);
});
