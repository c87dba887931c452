// Data safety end to end on the data lane's host (h14) and the sandbox S3 server: Litestream replication under
// load, a crash (docker kill of app and replicator) and a restore with the data-loss window
// measured, backup:verify catching a corrupted replica, backup:status turning red when the storage
// stops, pg_dump rotation and restore, and the Rails stand-in's four databases restored to a point
// in time. Unique app names per run; every loop is bounded in count and time.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { S3 } from '../../src/sandbox/config.ts';
import { httpRequest, waitFor } from '../../src/sandbox/http.ts';
import { backupScript } from '../../src/plan/backup-script.ts';
import { REPO_ROOT } from '../../src/sandbox/paths.ts';
import { berthArgv, H14, makeProject, resetApps, routeDomain, unrouteDomainHost, type TestProject } from './support/project.ts';

const RUN = randomBytes(3).toString('hex');
const APP = `bk${RUN}`; // testapp + litestream
const RAILS = `bkr${RUN}`; // railsapp, four databases
const PG = `bkp${RUN}`; // testapp + two postgres accessories
const ALL = [APP, RAILS, PG];
const PREFIX = `e2e-${RUN}`;
const env = {
  LITESTREAM_ACCESS_KEY_ID: S3.accessKeyId,
  LITESTREAM_SECRET_ACCESS_KEY: S3.secretAccessKey,
  SECRET_KEY_BASE: 'kb-backup-e2e-51c2',
  POSTGRES_PASSWORD: 'pg-backup-e2e-8e1f',
};

let p: TestProject;
const docker = (...args: string[]) => execFileSync('docker', ['--context', H14.context, ...args], { encoding: 'utf8' }).trim();
const onHost = (script: string) =>
  execFileSync('ssh', ['-p', String(H14.sshPort), `${H14.sshUser}@${H14.sshHost}`, script], { encoding: 'utf8' }).trim();
/** The S3 server's files, on this machine's engine (not on the host). */
const onS3Side = (script: string) => execFileSync('sh', ['-c', script], { encoding: 'utf8' }).trim();
const container = (app: string, service: string) =>
  docker('ps', '-aq', '--filter', `label=com.docker.compose.project=berth-${app}`, '--filter', `label=com.docker.compose.service=${service}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const litestream = (name: string, dbs: string[], extra: Record<string, unknown> = {}) => ({
  databases: dbs,
  replica: { url: `s3://${S3.bucket}/${PREFIX}/${name}`, endpoint: S3.networkEndpoint, force_path_style: true },
  max_lag_seconds: 5,
  ...extra,
});

const testappConfig = () => ({
  image: 'berth/testapp',
  hosts: ['h14'],
  domains: [`${APP}.berth.test`],
  tls: { mode: 'none' },
  port: 80,
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 5, start_period: '1s' },
  volumes: { data: '/data' },
  secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
  release_command: 'testapp migrate',
  litestream: litestream('testapp', ['/data/app.sqlite3']),
  deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 30 },
});

const RAILS_DBS = ['production', 'production_cache', 'production_queue', 'production_cable'].map((d) => `/rails/storage/${d}.sqlite3`);
const railsConfig = () => ({
  image: 'berth/railsapp',
  hosts: ['h14'],
  domains: [`${RAILS}.berth.test`],
  tls: { mode: 'none' },
  port: 80,
  // Rails boots in ~5 s quiet and 15+ s on a loaded host: checks failing meanwhile must not count (Docker's
  // start_period; a passing check still ends it at once), or the gate sees "unhealthy" and fails.
  healthcheck: { path: '/up', interval: '1s', timeout: '2s', retries: 5, start_period: '30s' },
  volumes: { storage: '/rails/storage' },
  env: { DB_PREPARE_ON_BOOT: '0' },
  secrets: ['SECRET_KEY_BASE', 'LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
  release_command: 'bin/rails db:prepare',
  litestream: litestream('rails', RAILS_DBS),
  deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 60 },
});

const pgAccessory = (schedule: string, keep: number) => ({
  image: 'postgres:16',
  port: undefined as string | undefined,
  volumes: {},
  // The password is a file (POSTGRES_PASSWORD_FILE), read after the entrypoint drops to uid 999.
  env: { POSTGRES_USER: 'app', POSTGRES_DB: 'app' },
  secrets: ['POSTGRES_PASSWORD'],
  healthcheck: { command: 'pg_isready -U app -d app' },
  backup: { schedule, keep },
});
const pgConfig = () => ({
  image: 'berth/testapp',
  hosts: ['h14'],
  port: 80,
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 5, start_period: '1s' },
  secrets: ['POSTGRES_PASSWORD'],
  accessories: {
    // Restores: dumped on demand (`once`), daily otherwise, bound to 127.0.0.1 only.
    postgres: { ...pgAccessory('daily', 7), port: '127.0.0.1:15439:5432', volumes: { pgdata: '/var/lib/postgresql/data' } },
    // Rotation: the scheduled loop itself, every 2 s, keeping 3.
    pgrot: { ...pgAccessory('every:2s', 3), volumes: { pgrot: '/var/lib/postgresql/data' } },
  },
  deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 30 },
});

interface StatusJson {
  ok: boolean;
  databases: { app: string; db: string; ok: boolean; problems: string[]; localTxid?: number; replicaTxid?: number; lagSeconds?: number; storage: string; lastVerifyOk?: boolean }[];
  dumps: { app: string; accessory: string; dumps: { name: string }[]; ok: boolean; problems: string[] }[];
}
async function status(app: string) {
  const r = await p.berth('backup-status', [app, '--json'], env);
  assert.ok(r.stdout.trim().startsWith('{'), r.all);
  return { code: r.code, json: JSON.parse(r.stdout) as StatusJson, all: r.all };
}

const get = (app: string, path: string, headers: Record<string, string> = {}) => httpRequest(`http://${app}.berth.test${path}`, { headers, timeoutMs: 3000 });
const post = (app: string, path: string, body: string, headers: Record<string, string> = {}) =>
  httpRequest(`http://${app}.berth.test${path}`, { method: 'POST', body, headers, timeoutMs: 3000 });

/** Open-loop writes at `rate`/s for at most `maxMs`; records every acknowledged id and when. */
function writeLoop(app: string, rate: number, maxMs: number) {
  const acks: { id: number; at: number }[] = [];
  let failed = 0;
  let stopped = false;
  const inflight = new Set<Promise<void>>();
  const done = (async () => {
    const t0 = Date.now();
    for (let i = 0; i < Math.ceil((rate * maxMs) / 1000) && !stopped; i++) {
      const req = post(app, '/write', 'x')
        .then((r) => {
          const id = r.status === 200 || r.status === 201 ? (JSON.parse(r.body) as { id?: number }).id : undefined;
          if (id) acks.push({ id, at: Date.now() });
          else failed++;
        })
        .catch(() => void failed++)
        .finally(() => inflight.delete(req));
      inflight.add(req);
      const next = t0 + ((i + 1) * 1000) / rate;
      await sleep(Math.max(0, next - Date.now()));
    }
    await Promise.all(inflight);
  })();
  return { acks, failed: () => failed, stop: () => void (stopped = true), done };
}

before(async () => {
  resetApps(ALL, H14);
  for (const a of ALL) await routeDomain(`${a}.berth.test`, H14);
  p = makeProject('berth-backup-e2e-', [H14]);
  p.writeApp(APP, testappConfig());
  p.writeApp(RAILS, railsConfig());
  p.writeApp(PG, pgConfig());
  const setup = await p.berth('setup', ['h14'], env);
  assert.equal(setup.code, 0, setup.all);
});

after(async () => {
  resetApps(ALL, H14);
  for (const a of ALL) await unrouteDomainHost(`${a}.berth.test`);
  onS3Side(`rm -rf /var/lib/docker/volumes/${'berth-sandbox-s3-data'}/_data/${S3.bucket}/${PREFIX}`);
  p?.cleanup();
});

test('deploy starts one replicator; status is red until the first verify, then green', async () => {
  const d = await p.berth('deploy', [APP, '--release', 'v1'], env);
  assert.equal(d.code, 0, d.all);
  assert.equal(container(APP, 'litestream').split('\n').filter(Boolean).length, 1, 'exactly one replicator');
  assert.match(docker('inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', container(APP, 'litestream')), /unless-stopped/);
  for (let i = 0; i < 5; i++) assert.equal((await post(APP, '/write', 'x')).status < 300, true);
  const s0 = await status(APP);
  assert.equal(s0.code, 3, 'never verified is red (exit 3)');
  assert.match(s0.json.databases[0]!.problems.join(), /never verified/);
  const v = await p.berth('backup-verify', [APP], env);
  assert.equal(v.code, 0, v.all);
  const s1 = await waitFor('status green', async () => {
    const s = await status(APP);
    return s.code === 0 ? s : undefined;
  }, { timeoutMs: 20_000, intervalMs: 1000 });
  assert.equal(s1.json.databases[0]!.storage, 'ok');
  assert.equal(s1.json.databases[0]!.lastVerifyOk, true);
});

test('writes under load are replicated, and a deploy keeps the same replicator', async () => {
  const before = container(APP, 'litestream');
  const w = writeLoop(APP, 40, 8000);
  await sleep(1500);
  const d = await p.berth('deploy', [APP, '--release', 'v2'], env);
  await w.done;
  assert.equal(d.code, 0, d.all);
  assert.match(d.all, /replication current/, 'the pre-flight ran before the release command');
  assert.equal(container(APP, 'litestream'), before, 'the replicator was not recreated by the deploy');
  assert.ok(w.acks.length > 200, `writes acknowledged: ${w.acks.length}, failed ${w.failed()}`);
  const s = await waitFor('replica caught up', async () => {
    const r = await status(APP);
    const db = r.json.databases[0]!;
    return db.localTxid !== undefined && db.replicaTxid === db.localTxid ? r : undefined;
  }, { timeoutMs: 15_000, intervalMs: 1000 });
  assert.equal(s.json.databases[0]!.lagSeconds, 0);
  const v = await p.berth('backup-verify', [APP, '--json'], env);
  assert.equal(v.code, 0, v.all);
  const rec = JSON.parse(v.stdout) as { databases: { comparison: string; restored: Record<string, number> }[] }[];
  const max = Math.max(...w.acks.map((a) => a.id));
  const restoredRows = Object.values(rec[0]!.databases[0]!.restored).reduce((a, b) => Math.max(a, b), 0);
  assert.ok(restoredRows >= max, `the restored replica holds every acknowledged write (${restoredRows} rows, last id ${max})`);
  console.log(`# replicated under load: ${w.acks.length} writes at 40/s; verify: ${rec[0]!.databases[0]!.comparison}`);
});

test('crash: docker kill app and replicator mid-load, restore loses at most a few seconds', async () => {
  const w = writeLoop(APP, 50, 10_000);
  await sleep(2000 + Math.floor(Math.random() * 3000));
  const web = docker('ps', '-q', '--filter', `label=com.docker.compose.project=berth-${APP}`, '--filter', 'label=berth.role=web');
  const killAt = Date.now();
  docker('kill', ...web.split('\n').filter(Boolean), container(APP, 'litestream'));
  w.stop();
  await w.done;
  const lastAck = w.acks.reduce((m, a) => (a.id > m.id ? a : m), { id: 0, at: 0 });
  const r = await p.berth('backup-restore', [APP], env);
  assert.equal(r.code, 0, r.all);
  const restored = await waitFor('restored app serving', async () => {
    const res = await get(APP, '/count').catch(() => undefined);
    return res?.status === 200 ? (JSON.parse(res.body) as { count: number }).count : undefined;
  }, { timeoutMs: 30_000, intervalMs: 500 });
  const lost = w.acks.filter((a) => a.id > restored);
  const windowMs = lost.length ? killAt - Math.min(...lost.map((a) => a.at)) : 0;
  console.log(`# data-loss window: ${lost.length} of ${w.acks.length} acknowledged writes lost, ${windowMs} ms before the kill (last ack id ${lastAck.id}, restored ${restored})`);
  assert.ok(windowMs <= 5000, `lost at most the last few seconds (${windowMs} ms)`);
  assert.ok(restored >= lastAck.id - 250, 'most writes survived');
  // The safety copy of the crashed database was kept.
  assert.match(onHost(`ls /var/lib/berth/apps/${APP}/backups/safety/*/`), /app\.sqlite3/);
  // Replication resumes from the restored database.
  assert.equal((await post(APP, '/write', 'x')).status < 300, true);
  await waitFor('replicating again', async () => {
    const s = await status(APP);
    const db = s.json.databases[0]!;
    return db.storage === 'ok' && db.replicaTxid === db.localTxid && db.lagSeconds === 0 ? s : undefined;
  }, { timeoutMs: 20_000, intervalMs: 1000 });
});

/**
 * Run backup:restore as the operator does, and SIGKILL the operator's whole process group (the CLI
 * and its ssh, as a closed terminal does) once `when` says so, `delayMs` later.
 */
async function killedRestore(app: string, when: (stderr: string) => boolean, delayMs: number) {
  const child = spawn(...berthArgv('backup-restore', [app]), { cwd: REPO_ROOT, env: { ...process.env, ...env, BERTH_ROOT: p.root, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  let killed = false;
  let exitedFirst = false; // a fast machine may finish the restore before the delay is up
  child.stderr.on('data', (d) => {
    stderr += d;
    if (!killed && when(stderr)) {
      killed = true;
      setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          exitedFirst = true;
        }
      }, delayMs);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code: number | null = await new Promise((r) => child.on('close', (c) => r(c)));
  clearTimeout(timer);
  return { killed, exitedFirst, code, stderr };
}

const journal = `/var/lib/berth/apps/${APP}/restore`;
const running = (service: string) => docker('inspect', '-f', '{{.State.Running}}', container(APP, service)) === 'true';
const appStatus = async () => {
  const r = await p.berth('status', [APP, '--json'], env);
  return { code: r.code, row: (JSON.parse(r.stdout) as { health: string; problems: string[] }[])[0]!, all: r.all };
};
const count = async () => JSON.parse((await get(APP, '/count')).body) as { count: number };

test('backup:restore with the operator killed at any point: the host finishes it, the app serves and replicates', async () => {
  // Early (right as the host job starts) and later (mid-restore): either way nothing is left down.
  for (const delayMs of [600 + Math.floor(Math.random() * 600), 2000 + Math.floor(Math.random() * 2000)]) {
    const before = (await count()).count;
    onHost(`rm -rf ${journal}.last`);
    const r = await killedRestore(APP, (e) => /--- h14: restore/.test(e), delayMs);
    assert.ok(r.killed, `the restore was started and killed:\n${r.stderr}`);
    // Killed before its command reached the host, nothing ran (and nothing stopped); otherwise
    // the job on the host ends by itself.
    const t0 = Date.now();
    const ended = await waitFor('the host job ended by itself (or never started)', async () => {
      const st = onHost(`if [ -d ${journal} ]; then echo running; elif [ -d ${journal}.last ]; then echo ended; else echo none; fi`);
      return st === 'ended' || (st === 'none' && Date.now() - t0 > 10_000) ? st : undefined;
    }, { timeoutMs: 90_000, intervalMs: 500 });
    if (ended === 'ended') assert.match(onHost(`cat ${journal}.last/log`), /^--result ok$/m, 'the job finished the restore');
    await waitFor('serving after the killed restore', async () => ((await get(APP, '/count').catch(() => undefined))?.status === 200 ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
    assert.ok(running('litestream'), 'the replicator runs again');
    assert.ok((await count()).count >= before, 'no acknowledged write lost');
    const s = await appStatus();
    assert.equal(s.code, 0, s.all);
    assert.deepEqual(s.row.problems, []);
    console.log(`# operator killed ${delayMs} ms after the restore step began${r.exitedFirst ? ' (it had already finished)' : ''}: ${ended === 'ended' ? 'finished by the host' : 'never reached the host'} (${(await count()).count} rows, ${before} before)`);
  }
  assert.equal(onHost(`test -d /var/lib/berth/apps/${APP}/lock && echo held || echo free`), 'free', 'the job released the lock');
});

test('backup:restore cut off on the host: status says so and what to run, deploys refuse, the rerun finishes it', async () => {
  const before = (await count()).count;
  const safetyBefore = onHost(`ls /var/lib/berth/apps/${APP}/backups/safety | wc -l`);
  // The host side dies after its safety copies (as a reboot would cut it): its whole process group.
  const child = spawn(...berthArgv('backup-restore', [APP]), { cwd: REPO_ROOT, env: { ...process.env, ...env, BERTH_ROOT: p.root, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited: Promise<number | null> = new Promise((res) => child.on('close', (c) => res(c)));
  await waitFor('the job made its safety copies', async () => (/^safety$/m.test(onHost(`cat ${journal}/done 2>/dev/null || true`)) ? true : undefined), { timeoutMs: 60_000, intervalMs: 100 });
  onHost(`kill -9 -- -$(cat ${journal}/pid)`);
  const cutAt = onHost(`tail -n 1 ${journal}/done`);
  const code = await exited;
  assert.notEqual(code, 0, stderr);
  assert.match(stderr, /the restore stopped before it ended \(last step done: \w+\); nothing is lost .*run backup:restore again to finish it/, stderr);
  const s = await appStatus();
  assert.equal(s.code, 3, 'status is red (exit 3)');
  assert.match(s.row.problems.join('\n'), new RegExp(`a backup:restore was cut off after its step "${cutAt}" .*run npm run backup:restore -- ${APP} to finish it`), s.all);
  const d = await p.berth('deploy', [APP, '--release', 'v2'], env);
  assert.notEqual(d.code, 0, d.all);
  assert.match(d.all, /a backup:restore was cut off .*nothing was changed/);
  const again = await p.berth('backup-restore', [APP], env);
  assert.equal(again.code, 0, again.all);
  assert.match(again.all, /finishing it first/);
  assert.match(again.all, /took over a lock|restored/);
  await waitFor('serving after the rerun', async () => ((await get(APP, '/count').catch(() => undefined))?.status === 200 ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
  assert.ok(running('litestream'), 'the replicator runs again');
  assert.equal((await count()).count, before, 'every row is back');
  assert.equal(onHost(`ls /var/lib/berth/apps/${APP}/backups/safety | wc -l`), String(Number(safetyBefore) + 1), 'one safety copy for the cut-off restore, kept');
  const after = await appStatus();
  assert.equal(after.code, 0, after.all);
});

test('backup:status is red at its first look after the storage stops, green again after', async () => {
  const s0 = await status(APP);
  assert.equal(s0.code, 0, s0.all);
  // The storage is gone before the next look: that look must say so (no cached green), however
  // long a loaded machine makes the command itself take (its time is logged, not judged here).
  // Gone for h14 only: its containers' traffic to the storage is dropped in h14's DOCKER-USER chain.
  // (Stopping the shared S3 container broke other lanes' replicas, and a sandbox:up there, e.g. the
  // demo's, started it again under this test.)
  const s3 = onHost('getent hosts s3 | cut -d" " -f1');
  assert.match(s3, /^\d+\.\d+\.\d+\.\d+$/, 'h14 resolves the storage');
  const rule = `DOCKER-USER -d ${s3} -p tcp --dport 9000 -j DROP`;
  onHost(`iptables -I ${rule}`);
  const lookAt = Date.now();
  let s: Awaited<ReturnType<typeof status>>;
  try {
    s = await status(APP);
  } finally {
    onHost(`while iptables -D ${rule} 2>/dev/null; do :; done`);
  }
  console.log(`# backup:status answered red in ${Date.now() - lookAt} ms with the storage unreachable from h14`);
  assert.equal(s.code, 3, `red (exit 3) at the first look:\n${s.all}`);
  assert.match(s.json.databases[0]!.problems.join(), /storage unreachable/);
  await waitFor('S3 back', async () => (await httpRequest(`${S3.hostEndpoint}/`, { timeoutMs: 2000 }).catch(() => undefined))?.status, { timeoutMs: 30_000 });
  await post(APP, '/write', 'x');
  // Litestream backs off after storage errors; the deploy pre-flight's forced sync (here: a verify's) catches up at once.
  const v = await p.berth('backup-verify', [APP], env);
  assert.equal(v.code, 0, v.all);
  await waitFor('green again', async () => ((await status(APP)).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 1000 });
});

test('backup:verify catches a corrupted replica', async () => {
  const dir = `/var/lib/docker/volumes/berth-sandbox-s3-data/_data/${S3.bucket}/${PREFIX}/testapp/${APP}/data/app.sqlite3`; // <prefix>/<app>/<database path>
  const files = onS3Side(`find ${dir} -name '*.ltx' | sort`).split('\n').filter(Boolean);
  assert.ok(files.length > 0, 'replica objects on the S3 backend');
  // Garbage over the middle of every object (the restore reads a snapshot plus later files).
  onS3Side(files.map((f) => `size=$(stat -c %s ${f}); dd if=/dev/urandom of=${f} bs=1 seek=$((size / 3)) count=64 conv=notrunc 2>/dev/null`).join('; '));
  const v = await p.berth('backup-verify', [APP], env);
  assert.notEqual(v.code, 0, `verify fails on a corrupted replica:\n${v.all}`);
  const rec = JSON.parse(onHost(`cat /var/lib/berth/apps/${APP}/backups/verify.json`)) as { ok: boolean };
  assert.equal(rec.ok, false, 'recorded on the host');
  const s = await status(APP);
  assert.equal(s.code, 3, 'red is exit 3');
  assert.match(s.json.databases[0]!.problems.join(), /last verify failed/);
});

test('pg_dump: the scheduled loop keeps exactly the configured number; restore replays a chosen dump', async () => {
  const d = await p.berth('deploy', [PG, '--release', 'v1'], env);
  assert.equal(d.code, 0, d.all);
  assert.match(docker('port', container(PG, 'postgres')), /^5432\/tcp -> 127\.0\.0\.1:15439$/m, 'bound to 127.0.0.1 only');
  const dumpsOf = (acc: string) => onHost(`ls /var/lib/berth/backups/${PG}/${acc} 2>/dev/null || true`).split('\n').filter((f) => /\.sql\.gz$/.test(f));
  // every:2s, keep 3: after five or more cycles exactly three remain.
  const seen = new Set<string>();
  await waitFor('five scheduled dumps', async () => {
    for (const f of dumpsOf('pgrot')) seen.add(f);
    return seen.size >= 5 ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 500 });
  await sleep(500);
  assert.equal(dumpsOf('pgrot').length, 3, `kept exactly 3 of ${seen.size}: ${dumpsOf('pgrot').join(' ')}`);

  const psql = (sql: string) => docker('exec', container(PG, 'postgres'), 'psql', '-U', 'app', '-d', 'app', '-tAc', sql);
  psql('create table notes (id serial primary key, body text); insert into notes (body) select md5(g::text) from generate_series(1, 5) g');
  const backup = container(PG, 'postgres-backup');
  const once = () => execFileSync('docker', ['--context', H14.context, 'exec', backup, 'sh', '-c', backupScript(), 'berth-backup', 'once'], { encoding: 'utf8' });
  assert.match(once(), /wrote postgres-/);
  const chosen = dumpsOf('postgres').sort().pop()!;
  await sleep(1100);
  psql('insert into notes (body) values (1), (2), (3)');
  assert.match(once(), /wrote postgres-/);
  const st = await status(PG);
  const pgRow = st.json.dumps.find((x) => x.accessory === 'postgres')!;
  assert.equal(pgRow.dumps.length, 2, 'dumps listed by backup:status');
  assert.equal(st.json.dumps.find((x) => x.accessory === 'pgrot')!.dumps.length, 3);
  psql('drop table notes');
  const r = await p.berth('backup-restore', [PG, '--accessory', 'postgres', '--dump', chosen], env);
  assert.equal(r.code, 0, r.all);
  assert.equal(psql('select count(*) from notes'), '5', 'the chosen (older) dump was restored');
  const newest = await p.berth('backup-restore', [PG, '--accessory', 'postgres'], env);
  assert.equal(newest.code, 0, newest.all);
  assert.equal(psql('select count(*) from notes'), '8', 'the newest dump by default');
});

test('Rails stand-in: four databases replicated, verified, restored to a point in time and served', async () => {
  const d = await p.berth('deploy', [RAILS, '--release', 'v1'], env);
  assert.equal(d.code, 0, d.all);
  const json = { accept: 'application/json', 'content-type': 'application/json' };
  const home = async () => JSON.parse((await get(RAILS, '/', { accept: 'application/json' })).body) as { workouts: number; release: string };
  const add = async (n: number, tag: string) => {
    for (let i = 0; i < n; i++) assert.equal((await post(RAILS, '/workouts', JSON.stringify({ name: `${tag}-${i}`, reps: i }), json)).status, 201);
  };
  await add(4, 'before');
  await sleep(2500); // > sync interval: the four writes are in the replica
  const at = new Date().toISOString();
  await sleep(1500);
  await add(3, 'after');
  assert.equal((await home()).workouts, 7);
  const v = await p.berth('backup-verify', [RAILS], env);
  assert.equal(v.code, 0, v.all);
  const s = await status(RAILS);
  assert.equal(s.json.databases.length, 4);
  assert.deepEqual(s.json.databases.map((x) => x.storage), ['ok', 'ok', 'ok', 'ok']);
  const r = await p.berth('backup-restore', [RAILS, '--at', at], env);
  assert.equal(r.code, 0, r.all);
  const h = await waitFor('rails serving', async () => (await get(RAILS, '/', { accept: 'application/json' }).catch(() => undefined))?.status === 200 ? home() : undefined, { timeoutMs: 30_000 });
  assert.equal(h.workouts, 4, 'state as of --at');
  // The files keep Rails' owner (uid 1000), and the app can write again.
  const owners = docker('run', '--rm', '--volumes-from', container(RAILS, 'litestream'), '--entrypoint', 'sh', 'litestream/litestream:0.5.17', '-c', 'stat -c %u /rails/storage/*.sqlite3 | sort -u');
  assert.equal(owners, '1000');
  await add(1, 'again');
  assert.equal((await home()).workouts, 5);
});
