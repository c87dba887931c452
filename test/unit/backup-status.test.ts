// Pure parts of the data-safety commands: parsers of Litestream's JSON output and of the host
// scripts' sectioned output, red/green thresholds, row-count comparison, pre-flight decisions,
// and the host-script builders (values as positional arguments, never in the script text).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { App } from '../../src/config/schema.ts';
import { appSchema } from '../../src/config/schema.ts';
import { parsePreflight } from '../../src/app/backup-preflight.ts';
import { parseAt, stamp } from '../../src/app/backup.ts';
import { restoreJob } from '../../src/exec/restore-job.ts';
import { backupScripts, formatObserveSpec } from '../../src/exec/backup-scripts.ts';
import {
  compareCounts,
  evaluateAppBackups,
  formatBackupStatus,
  parseBackupObservation,
  parseDaemonList,
  parseLocalStatus,
  parseLtxListing,
  parseVerifyOutput,
  schedulePeriodSeconds,
} from '../../src/plan/backup-status.ts';
import { renderLitestream } from '../../src/plan/render-litestream.ts';

const app = (extra: Record<string, unknown> = {}): App => ({
  name: 'shop',
  dir: '/x/apps/shop',
  file: 'apps/shop/app.yml',
  config: appSchema.parse({
    image: 'shop',
    volumes: { data: '/data' },
    secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
    litestream: { databases: ['/data/app.sqlite3'], replica: { url: 's3://bkt/shop', endpoint: 'http://s3:9000' }, max_lag_seconds: 10, max_verify_age_hours: 24 },
    accessories: { db: { image: 'postgres:16', backup: { schedule: 'every:2s', keep: 3 } } },
    ...extra,
  }),
});

const NOW = Date.parse('2026-11-23T10:00:00Z') / 1000;
const ltx = (files: { level: number; max: number; ts: string }[]) =>
  JSON.stringify(files.map((f) => ({ level: f.level, min_txid: f.max.toString(16).padStart(16, '0'), max_txid: f.max.toString(16).padStart(16, '0'), size: 100, timestamp: f.ts })), null, 2);

function observation(o: { local?: number; replica?: number; lastSync?: string; ltxError?: string; replicator?: string; verify?: unknown; dumps?: string[]; service?: string }) {
  const lines = [
    `--now ${NOW}`,
    '--app shop',
    o.replicator ?? '--replicator running 0 2026-11-23T09:00:00Z',
    '--list',
    JSON.stringify({ databases: [{ path: '/data/app.sqlite3', status: 'replicating', last_sync_at: o.lastSync ?? '2026-11-23T09:59:59Z' }] }),
    '--local',
    JSON.stringify([{ database: '/data/app.sqlite3', status: 'ok', local_txid: (o.local ?? 10).toString(16).padStart(16, '0'), wal_size: '1 kB' }]),
    '--ltx /data/app.sqlite3',
    o.ltxError ?? ltx([{ level: 0, max: o.replica ?? 10, ts: '2026-11-23T09:59:59Z' }, { level: 9, max: 4, ts: '2026-11-23T09:00:00Z' }]),
    `--exit ${o.ltxError ? 1 : 0}`,
    '--verify',
    o.verify === undefined ? JSON.stringify({ app: 'shop', host: 'h1', at: '2026-11-23T09:30:00Z', ok: true, databases: [{ path: '/data/app.sqlite3', restore: 'ok', ok: true, comparison: '2 tables, row counts match' }] }) : String(o.verify),
    `--backup-service db ${o.service ?? 'running'}`,
    '--dumps db',
    ...(o.dumps ?? [`1200 ${NOW - 3} db-20261123T095957Z.sql.gz`, `1100 ${NOW - 1} db-20261123T095959Z.sql.gz`]),
    '--end',
  ];
  return parseBackupObservation(lines.join('\n'));
}

const evaluate = (o: Parameters<typeof observation>[0]) => {
  const obs = observation(o);
  return evaluateAppBackups(app(), 'h1', obs.apps.get('shop'), obs.now);
};

test('litestream output parsers: ltx listing, local status, daemon list', () => {
  const l = parseLtxListing(ltx([{ level: 0, max: 0x1a, ts: '2026-11-23T09:59:59Z' }, { level: 1, max: 0x19, ts: '2026-11-23T09:59:30Z' }, { level: 9, max: 3, ts: '2026-11-23T09:00:00Z' }]).split('\n'), 0);
  assert.deepEqual(l, { ok: true, maxTxid: 26, lastFileAt: '2026-11-23T09:59:59Z', snapshot: { txid: 3, at: '2026-11-23T09:00:00Z' } });
  const err = parseLtxListing(['Error: operation error S3: ListObjectsV2, dial tcp: lookup s3: no such host'], 1);
  assert.equal(err.ok, false);
  assert.match(err.error!, /no such host/);
  assert.match(parseLtxListing([], 124).error!, /timed out/);
  assert.deepEqual(parseLtxListing(['[]'], 0), { ok: true, maxTxid: undefined, lastFileAt: undefined, snapshot: undefined });
  assert.deepEqual(parseLocalStatus(['[{"database":"/d/a","status":"ok","local_txid":"000000000000000a","wal_size":"1 kB"}]']).get('/d/a'), { status: 'ok', txid: 10 });
  assert.deepEqual(parseDaemonList(['{"databases":[{"path":"/d/a","status":"replicating","last_sync_at":"2026-11-23T09:36:45Z"}]}']).get('/d/a'), { status: 'replicating', lastSyncAt: '2026-11-23T09:36:45Z' });
  assert.equal(parseDaemonList(['Error: dial unix /var/run/litestream.sock: connect: no such file']).size, 0);
});

test('status: green when current, verified recently and dumps fresh', () => {
  const { dbs, dumps } = evaluate({});
  assert.equal(dbs.length, 1);
  assert.deepEqual(dbs[0]!.problems, []);
  assert.equal(dbs[0]!.ok, true);
  assert.equal(dbs[0]!.lagSeconds, 0);
  assert.equal(dbs[0]!.replica, 's3://bkt/shop/shop/data/app.sqlite3'); // <prefix>/<app>/<database path>
  assert.equal(dbs[0]!.lastSnapshotAt, '2026-11-23T09:00:00Z');
  assert.equal(dumps[0]!.ok, true);
  assert.deepEqual(dumps[0]!.dumps.map((d) => d.name), ['db-20261123T095959Z.sql.gz', 'db-20261123T095957Z.sql.gz']);
});

test('status thresholds → red', () => {
  const cases: [string, Parameters<typeof observation>[0], RegExp][] = [
    ['replica behind past max lag', { local: 12, replica: 10, lastSync: '2026-11-23T09:59:45Z' }, /lag 15s > 10s/],
    ['storage unreachable (the fast signal)', { ltxError: 'Error: dial tcp: lookup s3: no such host' }, /storage unreachable: .*no such host/],
    ['replicator exited', { replicator: '--replicator exited 2 2026-11-23T09:00:00Z' }, /replicator exited/],
    ['no replicator', { replicator: '--replicator missing' }, /no litestream container/],
    ['never verified', { verify: '' }, /never verified/],
    ['verify too old', { verify: JSON.stringify({ app: 'shop', host: 'h1', at: '2026-11-21T09:00:00Z', ok: true, databases: [{ path: '/data/app.sqlite3', restore: 'ok', ok: true }] }) }, /older than 24h/],
    ['verify failed', { verify: JSON.stringify({ app: 'shop', host: 'h1', at: '2026-11-23T09:50:00Z', ok: false, databases: [{ path: '/data/app.sqlite3', restore: 'failed', ok: false, error: 'restore failed: checksum mismatch' }] }) }, /last verify failed: restore failed: checksum mismatch/],
  ];
  for (const [name, o, re] of cases) {
    const { dbs } = evaluate(o);
    assert.equal(dbs[0]!.ok, false, name);
    assert.match(dbs[0]!.problems.join('; '), re, name);
  }
  // Behind but within the threshold stays green.
  assert.equal(evaluate({ local: 12, replica: 10, lastSync: '2026-11-23T09:59:55Z' }).dbs[0]!.ok, true);
});

test('status: pg_dump sets red when the loop is down or the newest dump is stale', () => {
  assert.match(evaluate({ service: 'exited' }).dumps[0]!.problems.join(), /backup service exited/);
  assert.match(evaluate({ dumps: [`10 ${NOW - 3600} db-20261123T090000Z.sql.gz`] }).dumps[0]!.problems.join(), /older than twice/);
  // A Postgres accessory whose dumps never succeeded (none on the host, the loop running) is red.
  const never = evaluate({ dumps: [] }).dumps[0]!;
  assert.equal(never.service, 'running');
  assert.equal(never.ok, false);
  assert.match(never.problems.join(), /no successful dump yet/);
  assert.match(formatBackupStatus([], [never], NOW * 1000), /^RED\s+h1\s+shop\s+db\b/m);
  assert.equal(schedulePeriodSeconds('every:2s'), 2);
  assert.equal(schedulePeriodSeconds('every:30m'), 1800);
  assert.equal(schedulePeriodSeconds('hourly'), 3600);
  assert.equal(schedulePeriodSeconds('03:30'), 86400);
});

test('status table names every red problem', () => {
  const { dbs, dumps } = evaluate({ ltxError: 'Error: no such host' });
  const text = formatBackupStatus(dbs, dumps, NOW * 1000);
  assert.match(text, /^RED\s+h1\s+shop\s+\/data\/app\.sqlite3\s+s3:\/\/bkt\/shop\/shop\/data\/app\.sqlite3/m);
  assert.match(text, /RED h1 shop \/data\/app\.sqlite3: storage unreachable/);
});

test('row-count comparison allows the live side to be ahead within the lag', () => {
  assert.deepEqual(compareCounts({ a: 3, b: 1 }, { a: 3, b: 1 }), { ok: true, summary: '2 tables, row counts match' });
  assert.equal(compareCounts({ a: 3 }, { a: 9 }).ok, true);
  assert.match(compareCounts({ a: 3 }, { a: 9 }).summary, /within replication lag: a -6/);
  assert.equal(compareCounts({ a: 3 }, { a: 3, b: 0 }).ok, false);
  assert.equal(compareCounts({ a: 300 }, { a: 3 }).ok, false);
  assert.equal(compareCounts({ a: 1 }, undefined).ok, true);
});

test('verify output → record', () => {
  const out = [
    '--now 1',
    '--db /data/app.sqlite3',
    'restore ok',
    'txid 1f',
    'integrity ok ',
    'restored rows 40',
    'restored migrations 1',
    'live migrations 1',
    'live rows 42',
    '--db /data/other.sqlite3',
    'restore failed',
    'log Error: decode ltx: checksum mismatch',
    '--end',
  ].join('\n');
  const r = parseVerifyOutput(out, 'shop', 'h1', '2026-11-23T10:00:00Z');
  assert.equal(r.ok, false);
  assert.equal(r.databases[0]!.ok, true);
  assert.equal(r.databases[0]!.txid, 31);
  assert.deepEqual(r.databases[0]!.restored, { rows: 40, migrations: 1 });
  assert.match(r.databases[0]!.comparison!, /rows -2/);
  assert.equal(r.databases[1]!.ok, false);
  assert.match(r.databases[1]!.error!, /checksum mismatch/);
  const corrupt = parseVerifyOutput('--db /d\nrestore ok\nintegrity *** in database main ***\n--end', 'shop', 'h1', 'x');
  assert.equal(corrupt.ok, false);
  assert.match(corrupt.databases[0]!.error!, /integrity check/);
  assert.equal(parseVerifyOutput('--error no litestream container in berth-shop', 'shop', 'h1', 'x').error, 'no litestream container in berth-shop');
  assert.match(parseVerifyOutput('--db /d\nrestore ok\nintegrity ok', 'shop', 'h1', 'x').error!, /did not finish/);
});

test('pre-flight output → current or not', () => {
  const ok = parsePreflight(['--now 1', '--sync /d/a', '{"db_path":"/d/a","txid":6,"replica_txid":6,"duration_ms":3}', '--exit 0', '--sync /d/b', 'no database yet', '--exit 0', '--point /d/a', '--end'].join('\n'));
  assert.equal(ok.ok, true);
  assert.deepEqual(ok.databases.map((d) => [d.path, d.current, d.note]), [['/d/a', true, undefined], ['/d/b', true, 'no database yet']]);
  assert.equal(ok.restorePoint, '/d/a');
  const behind = parsePreflight(['--sync /d/a', '{"txid":7,"replica_txid":6}', '--exit 0', '--end'].join('\n'));
  assert.equal(behind.ok, false);
  assert.match(behind.problems[0]!, /behind local 7/);
  const down = parsePreflight(['--sync /d/a', 'Error: sync failed: put object: no such host', '--exit 1', '--end'].join('\n'));
  assert.match(down.problems[0]!, /sync failed: .*no such host/);
  assert.deepEqual(parsePreflight('--error litestream container is not running').problems, ['litestream container is not running']);
});

test('host-script builders pass values as arguments, never inside the script', () => {
  const t = { user: 'root', address: '10.0.0.1', port: 22 };
  const spec = { app: 'shop', project: 'berth-shop', verifyFile: '/v.json', dbs: ['/data/a.sqlite3', '/data/b.sqlite3'], accessories: [{ name: 'db', dir: '/b/shop/db' }] };
  assert.equal(formatObserveSpec(spec), 'shop|berth-shop|/v.json|/data/a.sqlite3,/data/b.sqlite3|db:/b/shop/db');
  const obs = backupScripts.observe(t, [spec]);
  assert.equal(obs.mutates, false);
  const remote = obs.argv.at(-1)!;
  assert.ok(remote.endsWith(" berth 'shop|berth-shop|/v.json|/data/a.sqlite3,/data/b.sqlite3|db:/b/shop/db'"), remote.slice(-120));
  const args = { kind: 'sqlite' as const, journal: '/j', lock: '/l', app: 'shop', project: 'berth-shop', colour: 'blue', healthTimeoutSeconds: 30, rest: ['litestream/litestream:0.5.17', 'berth', '/safety/x', '2026-11-23T09:40:00.000Z', '/data/a.sqlite3'] };
  const r = restoreJob(t, false, args, JSON.stringify(args));
  assert.equal(r.mutates, true);
  assert.ok(r.argv.at(-1)!.includes(` '${JSON.stringify(args)}' sqlite /j /l shop`), 'the journal keeps the parameters (an argument, delivered whole)');
  assert.ok(r.argv.at(-1)!.endsWith(" sqlite /j /l shop berth-shop blue 30 litestream/litestream:0.5.17 berth /safety/x 2026-11-23T09:40:00.000Z /data/a.sqlite3"), r.argv.at(-1)!.slice(-160));
  assert.ok(restoreJob(t, true, { ...args, rest: ['i', 'n', '/s', '', '/d'] }, '').argv.at(-1)!.endsWith(" /s '' /d"));
  assert.ok(backupScripts.preflight(t, 'p', 'i', 'n', '/rp/1', 3, ['/d']).argv.at(-1)!.endsWith(' berth p i n /rp/1 3 /d'));
});

test('--at parsing, stamps, and the control socket in litestream.yml', () => {
  const now = new Date('2026-11-23T10:00:00Z');
  assert.equal(parseAt('2026-11-23T09:40:00Z', now), '2026-11-23T09:40:00.000Z');
  assert.equal(parseAt(undefined, now), undefined);
  assert.throws(() => parseAt('yesterday-ish', now), /not a time/);
  assert.throws(() => parseAt('2026-11-24T00:00:00Z', now), /in the future/);
  assert.equal(stamp(new Date('2026-11-23T09:40:05.123Z')), '20261123T094005Z');
  assert.match(renderLitestream(app()), /^socket:\n {2}enabled: true\n {2}path: \/var\/run\/litestream\.sock$/m);
});

test('the pg_dump loop script parses, and every:<N> schedules are accepted by the schema', async () => {
  const { execFileSync } = await import('node:child_process');
  const { backupScript } = await import('../../src/plan/backup-script.ts');
  execFileSync('sh', ['-n', '-c', backupScript()]);
  assert.match(backupScript(), /restore\)/);
  const acc = (schedule: string) => appSchema.safeParse({ image: 'x', accessories: { db: { image: 'postgres:16', backup: { schedule } } } }).success;
  assert.equal(acc('every:2s'), true);
  assert.equal(acc('every:30m'), true);
  assert.equal(acc('every:2d'), false);
  assert.equal(acc('daily'), true);
});

test('pg_dump schedule: "HH:MM" and "daily" follow the container clock\'s zone (host-local, like cron)', async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, chmodSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { backupScript } = await import('../../src/plan/backup-script.ts');
  // A `date` that answers a fixed instant (2026-12-01T17:00:00Z) and a given zone offset.
  const bin = mkdtempSync(join(tmpdir(), 'berth-date-'));
  writeFileSync(join(bin, 'date'), '#!/bin/sh\ncase "$*" in *%z*) echo "$FAKE_Z" ;; *%s*) echo 1796144400 ;; *) exec /bin/date "$@" ;; esac\n');
  chmodSync(join(bin, 'date'), 0o755);
  const next = (schedule: string, z: string) =>
    Number(
      execFileSync('sh', ['-c', backupScript(), 'berth-backup', 'next'], {
        env: { PATH: `${bin}:/usr/bin:/bin`, FAKE_Z: z, BERTH_BACKUP_SCHEDULE: schedule, BERTH_BACKUP_NAME: 'db', BERTH_BACKUP_KEEP: '7', BERTH_BACKUP_HOST: 'db' },
        encoding: 'utf8',
      }).trim().split('\n').pop(),
    );
  assert.equal(next('03:00', '+0000'), 10 * 3600); // 17:00Z → 03:00Z
  assert.equal(next('03:00', '+0900'), 3600); // 02:00 in Tokyo → 03:00 local
  assert.equal(next('03:00', '-0500'), 15 * 3600); // 12:00 in New York → 03:00 local
  assert.equal(next('03:00', '+0530'), 4 * 3600 + 30 * 60); // 22:30 in India → 03:00 local
  assert.equal(next('daily', '+0900'), 22 * 3600); // 02:00 local → midnight local
  assert.equal(next('hourly', '+0530'), 3600); // on the hour of the epoch clock
  assert.equal(next('every:2s', '+0900'), 2);
});

test('backup.timezone and backup.dir: mounts and validation', () => {
  const parse = (backup: Record<string, unknown>) => appSchema.safeParse({ image: 'x', accessories: { db: { image: 'postgres:16', backup } } });
  assert.equal(parse({ schedule: '03:00', timezone: 'Europe/Berlin', dir: '/opt/backups/postgres' }).success, true);
  assert.equal(parse({ schedule: '24:00' }).success, false);
  for (const dir of ['/opt/../etc', 'opt/backups', '/', '/opt/backups/', '/opt/back ups', '/opt/$(id)', '/opt/a,b', '/opt/a:b']) assert.equal(parse({ dir }).success, false, dir);
  for (const timezone of ['../../etc/passwd', 'Europe/Berlin;id', 'local']) assert.equal(parse({ timezone }).success, false, timezone);
});

test('pg_dump rotation: the new dump takes its name only after the oldest went, so never more than keep exist; a failed dump removes nothing', async () => {
  const { execFileSync, spawnSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, chmodSync, readdirSync, readFileSync, mkdirSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { backupScript } = await import('../../src/plan/backup-script.ts');
  const root = mkdtempSync(join(tmpdir(), 'berth-rotate-'));
  const dir = join(root, 'backups');
  const bin = join(root, 'bin');
  mkdirSync(dir);
  mkdirSync(bin);
  const old = ['20261201T000000Z', '20261202T000000Z', '20261203T000000Z'].map((s) => `db-${s}.sql.gz`);
  for (const f of old) writeFileSync(join(dir, f), 'x');
  // pg_dump writes its --file (or fails when told to); mv records how many dumps exist right before the new one appears.
  writeFileSync(join(bin, 'pg_dump'), `#!/bin/sh\n[ -f ${root}/fail ] && exit 1\nfor a; do case "$a" in --file=*) echo dump > "\${a#--file=}";; esac; done\n`);
  writeFileSync(join(bin, 'mv'), `#!/bin/sh\nls -1 ${dir} | grep -c 'sql.gz$' >> ${root}/before-mv\nexec /bin/mv "$@"\n`);
  for (const f of ['pg_dump', 'mv']) chmodSync(join(bin, f), 0o755);
  const env = { PATH: `${bin}:${process.env.PATH}`, BERTH_BACKUP_DIR: dir, BERTH_BACKUP_NAME: 'db', BERTH_BACKUP_KEEP: '3', BERTH_BACKUP_SCHEDULE: 'daily', BERTH_BACKUP_HOST: 'db' };
  const out = execFileSync('sh', ['-c', backupScript(), 'berth-backup', 'once'], { env, encoding: 'utf8' });
  assert.match(out, /removed db-20261201T000000Z\.sql\.gz[\s\S]*wrote db-\d{8}T\d{6}Z\.sql\.gz/);
  assert.equal(readFileSync(join(root, 'before-mv'), 'utf8').trim(), '2', 'keep-1 dumps when the new one is renamed into place');
  const dumps = readdirSync(dir).filter((f) => f.endsWith('.sql.gz')).sort();
  assert.equal(dumps.length, 3);
  assert.deepEqual(dumps.slice(0, 2), old.slice(1));
  writeFileSync(join(root, 'fail'), '');
  const failed = spawnSync('sh', ['-c', backupScript(), 'berth-backup', 'once'], { env, encoding: 'utf8' });
  assert.notEqual(failed.status, 0);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.sql.gz')).sort(), dumps, 'a failed dump removes nothing');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('partial')), [], 'and leaves no partial file');
});
