// `npm run import -- kamal`: the pure mapping (Kamal object → Berth config + notes) as tables over the
// seeds' deploy.yml excerpts and Kamal's template (test/fixtures/kamal/), and the file side: the
// result passes `plan`, secrets are never copied, hostile values and overwrites are refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { plan } from '../../src/app/plan.ts';
import { ConfigError } from '../../src/errors.ts';
import { importKamal, mapAlias, overrideOf } from '../../src/import/kamal.ts';
import { mergeOverride } from '../../src/config/destinations.ts';
import { importKamalFiles } from '../../src/import/kamal-files.ts';
import { parseKamalSecrets } from '../../src/import/kamal-secrets.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(repo, 'test', 'fixtures', 'kamal');
const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function emptyProject(): string {
  const root = mkdtempSync(join(tmpdir(), 'kml-import-'));
  roots.push(root);
  mkdirSync(join(root, 'shared'));
  writeFileSync(join(root, 'shared', 'edge.yml'), 'acme:\n  email: ops@example.com\n');
  return root;
}

const deployOf = (fixture: string) => join(fixtures, fixture, 'config', 'deploy.yml');
type Obj = Record<string, any>;

// ---------------------------------------------------------------- every fixture imports and plans

const EXPECT: Record<string, (app: Obj, hosts: Obj, notes: string) => void> = {
  wombatworkouts: (app, hosts, notes) => {
    assert.equal(app.image, 'ghcr.io/ideasasylum/wombatworkouts');
    assert.deepEqual(app.registry, { server: 'ghcr.io', username: 'ideasasylum', password_secret: 'KAMAL_REGISTRY_PASSWORD' });
    assert.deepEqual(app.domains, ['wombatworkouts.com']);
    assert.equal(app.tls, undefined); // ssl: true → the default, ACME
    assert.equal(app.port, 80);
    assert.deepEqual(app.healthcheck, { path: '/up', interval: '10s', retries: 7 });
    assert.deepEqual(app.volumes, { wombatworkouts_storage: '/rails/storage' });
    assert.deepEqual(app.env, { SOLID_QUEUE_IN_PUMA: true });
    assert.deepEqual(app.secrets, ['RAILS_MASTER_KEY']);
    // Secret commands and hooks run in the build context, the Kamal project root, as in Kamal.
    assert.deepEqual(app.secret_commands, { KAMAL_REGISTRY_PASSWORD: 'gh auth token', RAILS_MASTER_KEY: 'cat config/master.key' });
    assert.equal(app.accessories, undefined); // the Litestream accessory is replaced by litestream:
    assert.deepEqual(app.aliases, { console: 'bin/rails console', shell: 'bash', logs: 'berth:logs --follow', dbc: 'bin/rails dbconsole' });
    assert.deepEqual(Object.values(hosts).map((h: Obj) => h.ssh), ['root@203.0.113.10']);
    assert.match(notes, /UNMAPPED accessories\.litestream: Berth's litestream: key/);
    assert.equal(app.asset_path, '/rails/public/assets'); // Kamal's asset bridging, same key
    assert.match(notes, /mapped asset_path:|asset_path \/rails\/public\/assets/);
    assert.match(notes, /UNMAPPED builder\.arch:/);
    assert.match(notes, /UNMAPPED labels:/);
  },
  zen_miner: (app, hosts, notes) => {
    assert.equal(app.image, 'example-dockerhub-user/zen_miner'); // Docker Hub: no prefix
    assert.deepEqual(app.tls, { mode: 'none' });
    assert.deepEqual(app.healthcheck, { path: '/up', interval: '3s' });
    assert.deepEqual(app.resources, { memory: '512m', cpus: 1 });
    assert.deepEqual(Object.values(hosts), [{ ssh: 'root@123.45.67.89', roles: ['web'], labels: { role: 'primary' } }]);
    assert.deepEqual(app.secrets, ['KAMAL_REGISTRY_PASSWORD', 'RAILS_MASTER_KEY']);
    assert.deepEqual(Object.keys(app.secret_commands), ['RAILS_MASTER_KEY']);
    assert.equal(app.aliases.backup, "sh -c 'cp /rails/storage/production.sqlite3 /rails/storage/backup-$(date +%Y%m%d-%H%M%S).sqlite3'");
    assert.deepEqual(Object.keys(app.hooks).sort(), ['post_deploy', 'pre_build', 'pre_deploy']);
    assert.equal(app.hooks.pre_deploy, './.kamal/hooks/pre-deploy');
    assert.match(notes, /TODO +\.kamal\/hooks\/pre-deploy: .*calls kamal/);
    assert.match(notes, /mapped +\.kamal\/hooks\/post-deploy: hooks\.post_deploy \(/); // reads .kamal/version: not a kamal call
    assert.doesNotMatch(notes, /pre-connect/); // .sample hooks are ignored
    assert.match(notes, /TODO .*KAMAL_REGISTRY_PASSWORD: read from the environment/);
  },
  running_calendar: (app, _hosts, notes) => {
    assert.deepEqual(app.domains, ['mxcorre.com']);
    assert.equal(app.www, 'alias');
    assert.equal(app.env.DB_HOST, 'db'); // Kamal's <service>-<accessory> container name → the accessory's name
    assert.deepEqual(app.accessories.db, {
      image: 'postgres:16',
      port: '127.0.0.1:5432:5432',
      env: { POSTGRES_DB: 'running_calendar_production' },
      secrets: ['POSTGRES_PASSWORD'],
      volumes: { running_calendar_postgres: '/var/lib/postgresql/data' },
    });
    assert.ok(app.secrets.includes('POSTGRES_PASSWORD'));
    assert.match(notes, /TODO .*POSTGRES_PASSWORD: a literal value \(line 3\) was NOT copied/);
  },
  template: (app, hosts, notes) => {
    assert.equal(app.image, 'my-user/my-app');
    assert.deepEqual(app.workers, { job: { command: 'bin/jobs' } });
    // The accessories' own server (host: 192.168.0.2) joins hosts.json; both SSH addresses are private ones.
    assert.deepEqual(Object.values(hosts), [
      { ssh: 'app@192.168.0.1', roles: ['web', 'job'], labels: {}, private_ip: '192.168.0.1' },
      { ssh: 'app@192.168.0.2', roles: [], labels: {}, private_ip: '192.168.0.2' },
    ]);
    assert.equal(app.accessories.db.host, 'h-192-168-0-2');
    // Reached from 192.168.0.1: published on the private address (Kamal's 127.0.0.1 would answer on .2 only).
    assert.equal(app.accessories.db.port, '3306:3306');
    assert.equal(app.accessories.redis.port, '6379:6379');
    // Kamal keeps directories apart by folder; one compose project needs distinct volume names.
    assert.deepEqual(app.accessories.db.volumes, { data: '/var/lib/mysql' });
    assert.deepEqual(app.accessories.redis.volumes, { redis_data: '/data' });
    // DB_HOST: 192.168.0.2 is what Berth sets itself now.
    assert.equal(app.env.DB_HOST, undefined);
    assert.match(notes, /mapped +env\.clear\.DB_HOST: dropped: Berth sets DB_HOST on every host to where db is reached from there \(192\.168\.0\.2\)/);
    assert.match(notes, /TODO +accessories\.db\.files\[0\]: config\/mysql\/production\.sql:.* is not in the Kamal project \(yet\)/);
    assert.match(notes, /UNMAPPED .*MYSQL_ROOT_PASSWORD: uses Kamal's password-manager adapter/);
    assert.match(notes, /mapped +accessories\.redis\.port: 6379:6379: h-192-168-0-1 reach it from other hosts, so Berth publishes it on h-192-168-0-2's private_ip only/);
  },
  // The issue's shape: web on two servers, a job role on a third (cmd, options), a named volume,
  // PostgreSQL on its own server bound to its private address, files, directories, ERB.
  topology: (app, hosts, notes) => {
    assert.deepEqual(app.hosts, ['h-203-0-113-41', 'h-203-0-113-42']);
    assert.deepEqual(app.workers, { job: { command: 'bin/jobs', hosts: ['h-203-0-113-43'], resources: { memory: '512m', cpus: 1 } } });
    assert.deepEqual(app.resources, { memory: '1g' });
    assert.match(notes, /UNMAPPED servers\.job\.options\.add-host:/);
    assert.equal(app.accessories.db.host, 'h-203-0-113-44');
    assert.equal(app.accessories.db.port, '5432:5432');
    assert.equal(hosts['h-203-0-113-44'].private_ip, '10.0.0.44', "the port's address is the database server's private address");
    assert.deepEqual(app.accessories.db.volumes, { data: '/var/lib/postgresql/data' });
    assert.match(app.accessories.db.files['/docker-entrypoint-initdb.d/init.sql'], /test\/fixtures\/kamal\/topology\/config\/db\/init\.sql$/);
    // Kamal keeps a named volume per server: per_host_volumes, with the reason.
    assert.deepEqual(app.per_host_volumes, ['shop_storage']);
    assert.match(notes, /mapped +volumes: per_host_volumes shop_storage: the app runs on h-203-0-113-41, h-203-0-113-42, h-203-0-113-43 and Kamal keeps one copy/);
    // DB_HOST: shop-db (Kamal's container name) cannot work across hosts: Berth sets DB_HOST itself.
    assert.equal(app.env.DB_HOST, undefined);
    // ERB: an env read stays a read at deploy time (a secret reference); elsewhere the default or the value now.
    assert.equal(app.env.SMTP_HOST, '${SMTP_HOST}');
    assert.ok(app.secrets.includes('SMTP_HOST'));
    assert.deepEqual(app.domains, ['shop.example.com']);
    assert.match(notes, /proxy\.host: line 26 <%= ENV\.fetch\("SHOP_DOMAIN", "shop\.example\.com"\) %> → its default "shop\.example\.com"/);
  },
  // Written from Kamal's documentation before it ran through the import (test/fixtures/kamal/README.md).
  unseen: (app, hosts, notes) => {
    assert.deepEqual(app.workers.workers.hosts, ['h-172-16-0-3']);
    assert.equal(app.accessories.mysql.host, 'h-172-16-0-4');
    assert.equal(hosts['h-172-16-0-4'].private_ip, '172.16.0.4');
    // One Valkey per web server with its own data in Kamal: Berth keeps the data on one host, said why.
    assert.equal(app.accessories.valkey.host, 'h-172-16-0-1');
    assert.match(notes, /mapped +accessories\.valkey: host: h-172-16-0-1 \(Kamal ran one valkey per server on h-172-16-0-1, h-172-16-0-2, each with its own data/);
    assert.equal(app.env.REDIS_URL, 'redis://172.16.0.1:6379/0');
    assert.deepEqual(app.accessories.valkey.volumes, { valkey_data: '/data' });
    assert.match(notes, /UNMAPPED volumes\[0\]: \/var\/cache\/hey:\/rails\/tmp\/cache: a host path/);
  },
};

for (const [fixture, check] of Object.entries(EXPECT)) {
  test(`import kamal ${fixture}: maps the seed's keys, and the result passes plan`, async () => {
    const root = emptyProject();
    const r = await importKamalFiles(root, { deployPath: deployOf(fixture) });
    const text = readFileSync(join(root, r.appFile), 'utf8');
    const app = parse(text) as Obj;
    const hosts = JSON.parse(readFileSync(join(root, 'hosts.json'), 'utf8')).hosts;
    const notes = text.split('\n').filter((l) => l.startsWith('#')).join('\n');
    check(app, hosts, notes);
    const out: string[] = [];
    const p = await plan({ root, env: {}, log: { output: (t) => out.push(t), addSecrets: () => {} } }, { apps: [r.name] });
    // One compose.yml, or (processes placed per host) one per host.
    assert.ok(p.files.some((f) => f.path === `compose/${r.name}/compose.yml` || f.path.startsWith(`compose/${r.name}/hosts/`)));
    // The build context points at the Kamal project (where the Dockerfile is).
    assert.ok(existsSync(join(root, 'apps', r.name, app.build.context, 'config', 'deploy.yml')));
  });
}

// ---------------------------------------------------------------- secrets

test('a literal secret value is never copied anywhere', async () => {
  const root = emptyProject();
  const r = await importKamalFiles(root, { deployPath: deployOf('running_calendar') });
  const written = readFileSync(join(root, r.appFile), 'utf8') + readFileSync(join(root, 'hosts.json'), 'utf8');
  assert.ok(!written.includes('placeholder-not-a-real-password'));
  assert.ok(!JSON.stringify(r).includes('placeholder-not-a-real-password'));
});

test('parseKamalSecrets keeps shapes, never values', () => {
  const { secrets, skipped } = parseKamalSecrets(
    ['# c', 'A=$(gh auth token)', 'B="$(cat config/master.key)"', 'C=$C', 'D=${OTHER}', 'E=hunter2', 'F=$(kamal secrets extract F ${SECRETS})', 'garbage', 'export G=$(op read x)'].join('\n'),
  );
  assert.deepEqual(secrets, [
    { name: 'A', line: 2, kind: 'command', command: 'gh auth token' },
    { name: 'B', line: 3, kind: 'command', command: 'cat config/master.key' },
    { name: 'C', line: 4, kind: 'variable', variable: 'C' },
    { name: 'D', line: 5, kind: 'variable', variable: 'OTHER' },
    { name: 'E', line: 6, kind: 'literal' },
    { name: 'F', line: 7, kind: 'kamal-adapter', command: 'kamal secrets extract F ${SECRETS}' },
    { name: 'G', line: 9, kind: 'command', command: 'op read x' },
  ]);
  assert.deepEqual(skipped, [{ line: 8, reason: 'not a NAME=value line' }]);
  assert.ok(!JSON.stringify(secrets).includes('hunter2'));
});

test('a secret read from another variable becomes printenv; a literal registry password is not copied', () => {
  const r = importKamal({
    deployFile: 'deploy.yml',
    deploy: { service: 'app', image: 'u/app', servers: ['1.2.3.4'], registry: { username: 'u', password: 'literal-pw' }, env: { secret: ['TOKEN'] } },
    secrets: { file: '.kamal/secrets', text: 'TOKEN=$CI_TOKEN\n' },
  });
  assert.deepEqual(r.app.secret_commands, { TOKEN: 'printenv CI_TOKEN' });
  assert.ok(!JSON.stringify(r).includes('literal-pw'));
  assert.ok(r.notes.some((n) => n.key === 'registry.password' && n.status === 'action' && n.text.includes('never copied')));
});

// ---------------------------------------------------------------- mapping details

test('mapAlias: Kamal alias → Berth alias', () => {
  const table: [string, string | undefined][] = [
    ['app exec --interactive --reuse "bin/rails console"', 'bin/rails console'],
    ['app exec -i "bash"', 'bash'],
    ['app logs -f', 'berth:logs --follow'],
    ['app logs', 'berth:logs'],
    ['app exec "echo $(date)"', "sh -c 'echo $(date)'"],
    ["app exec \"echo 'x' | wc\"", undefined], // shell syntax with a single quote: not safely mappable
    ['accessory logs litestream', undefined],
    ['app exec --roles=web bash', undefined],
  ];
  for (const [kamal, berth] of table) assert.equal(mapAlias(kamal), berth, kamal);
});

test('clear env values are literal in Kamal: "$" is escaped for compose', () => {
  const r = importKamal({ deployFile: 'deploy.yml', deploy: { service: 'app', image: 'u/app', servers: ['1.2.3.4'], env: { A: 'p$ss', B: 3 } } });
  assert.deepEqual(r.app.env, { A: 'p$$ss', B: 3 });
});

test('a host already in hosts.json (same SSH target) is reused, not duplicated', () => {
  const r = importKamal({ deployFile: 'deploy.yml', deploy: { service: 'app', image: 'u/app', servers: ['1.2.3.4'] }, existingHosts: { app1: { ssh: 'root@1.2.3.4' } } });
  assert.deepEqual(r.app.hosts, ['app1']);
  assert.deepEqual(r.newHosts, {});
});

test('boot.limit becomes deploy.batch_size (a number, or a percentage of the hosts rounded up); boot.wait is listed', () => {
  const servers = ['1.2.3.4', '1.2.3.5', '1.2.3.6'];
  const num = importKamal({ deployFile: 'deploy.yml', deploy: { service: 'app', image: 'u/app', servers, boot: { limit: 2, wait: 3 } } });
  assert.equal((num.app.deploy as Obj).batch_size, 2);
  assert.match(num.notes.map((n) => `${n.key} ${n.status}`).join('\n'), /boot\.wait unmapped/);
  const pct = importKamal({ deployFile: 'deploy.yml', deploy: { service: 'app', image: 'u/app', servers, boot: { limit: '50%' } } });
  assert.equal((pct.app.deploy as Obj).batch_size, 2);
  const none = importKamal({ deployFile: 'deploy.yml', deploy: { service: 'app', image: 'u/app', servers } });
  assert.equal((none.app.deploy as Obj | undefined)?.batch_size, undefined);
});

// ---------------------------------------------------------------- refusals

test('hostile or unusable values are refused with file, key and fix; nothing is written', async () => {
  const table: [Obj, string, RegExp][] = [
    [{ service: '../evil', image: 'u/app', servers: ['1.2.3.4'] }, 'service', /pass --name/],
    [{ service: 'a/b', image: 'u/app', servers: ['1.2.3.4'] }, 'service', /pass --name/],
    [{ service: 'app', image: 'u/app', servers: ['1.2.3.4; rm -rf /'] }, 'servers.web[0]', /fix the address/],
    [{ service: 'app', image: 'u/app', servers: { 'web/../x': ['1.2.3.4'] } }, 'servers.web/../x', /role name/],
    [{ service: 'app', image: 'U/App $(x)', servers: ['1.2.3.4'] }, 'image', /fix image/],
    [{ service: 'app', image: 'u/app', servers: ['1.2.3.4'], volumes: ['data:/x/../../etc'] }, 'volumes[0]', /volume/],
    [{ service: 'app', image: 'u/app', servers: ['1.2.3.4'], proxy: { host: 'evil.com`) || Host(`x' } }, 'proxy.host', /DNS name/],
  ];
  for (const [deploy, path, msg] of table) {
    assert.throws(
      () => importKamal({ deployFile: 'config/deploy.yml', deploy }),
      (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.file === 'config/deploy.yml' && i.path === path && msg.test(`${i.expected} ${i.hint ?? ''}`)),
      JSON.stringify(deploy),
    );
  }
  assert.throws(() => importKamal({ deployFile: 'd.yml', deploy: { service: 'app', image: 'u/app', servers: ['1.2.3.4'] }, name: '../x' }), /--name/);
});

test('the seed excerpt as written (a list and a mapping under web:) is a YAML error with its line', async () => {
  const root = emptyProject();
  await assert.rejects(importKamalFiles(root, { deployPath: deployOf('zen_miner-verbatim') }), (e: unknown) => e instanceof ConfigError && e.issues[0]!.line === 6);
  assert.ok(!existsSync(join(root, 'apps')));
});

test('an existing apps/<name> is not overwritten without --force', async () => {
  const root = emptyProject();
  await importKamalFiles(root, { deployPath: deployOf('zen_miner') });
  writeFileSync(join(root, 'apps', 'zen_miner', 'app.yml'), readFileSync(join(root, 'apps', 'zen_miner', 'app.yml'), 'utf8') + '# edited\n');
  await assert.rejects(importKamalFiles(root, { deployPath: deployOf('zen_miner') }), /--force/);
  assert.match(readFileSync(join(root, 'apps', 'zen_miner', 'app.yml'), 'utf8'), /# edited/);
  await importKamalFiles(root, { deployPath: deployOf('zen_miner'), force: true });
  assert.doesNotMatch(readFileSync(join(root, 'apps', 'zen_miner', 'app.yml'), 'utf8'), /# edited/);
});

test('an import that would not validate changes nothing (domain already routed)', async () => {
  const root = emptyProject();
  await importKamalFiles(root, { deployPath: deployOf('zen_miner') });
  const hostsBefore = readFileSync(join(root, 'hosts.json'), 'utf8');
  // The template claims app.example.com too.
  await assert.rejects(importKamalFiles(root, { deployPath: deployOf('template') }), /app\.example\.com/);
  assert.equal(readFileSync(join(root, 'hosts.json'), 'utf8'), hostsBefore);
  assert.ok(!existsSync(join(root, 'apps', 'my-app')));
});

test('npm run import -- kamal: the CLI prints the notes and exits 0; bad usage exits 2 without a stack', () => {
  const root = emptyProject();
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'scripts', 'berth.ts'), 'import', ...args], { cwd: repo, env: { PATH: process.env.PATH, HOME: process.env.HOME, BERTH_ROOT: root }, encoding: 'utf8' });
  const ok = run(['kamal', deployOf('running_calendar'), '--name', 'kml-cal']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /wrote apps\/kml-cal\/app\.yml/);
  assert.match(ok.stdout, /POSTGRES_PASSWORD: a literal value/);
  const bad = run(['docker-compose', 'x.yml']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /usage: berth import kamal/);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/);
});

test("Kamal's local registry (registry.server: localhost:<port>) becomes registry: none, built here; it plans", async () => {
  const root = emptyProject();
  const kamalDir = join(root, 'kamal-app');
  mkdirSync(join(kamalDir, 'config'), { recursive: true });
  writeFileSync(join(kamalDir, 'Dockerfile'), 'FROM scratch\n');
  writeFileSync(
    join(kamalDir, 'config', 'deploy.yml'),
    'service: shipit\nimage: shipit\nservers: [203.0.113.40]\nregistry:\n  server: localhost:5555\nproxy:\n  host: shipit.example.net\n',
  );
  const r = await importKamalFiles(root, { deployPath: join(kamalDir, 'config', 'deploy.yml') });
  assert.ok(r);
  const app = parse(readFileSync(join(root, 'apps', 'shipit', 'app.yml'), 'utf8'));
  assert.equal(app.registry, 'none');
  assert.equal(app.build.on, 'local');
  assert.equal(app.image, 'shipit'); // no registry prefix: the tag is the host's own
  assert.match(readFileSync(join(root, 'apps', 'shipit', 'app.yml'), 'utf8'), /registry\.server.*registry: none/);
  const p = await plan({ root, env: {}, log: { output: () => {}, addSecrets: () => {} } }, { apps: ['shipit'] });
  assert.ok(p.files.some((f) => f.path === 'compose/shipit/compose.yml'));
  // A literal remote registry still maps to a registry (not to none).
  const remote = importKamal({ deployFile: 'deploy.yml', deploy: { service: 'app', image: 'u/app', servers: ['1.2.3.4'], registry: { server: 'ghcr.io', username: 'u', password: ['T'] } } });
  assert.deepEqual(remote.app.registry, { server: 'ghcr.io', username: 'u', password_secret: 'T' });
});

// ---------------------------------------------------------------- destinations

test('config/deploy.staging.yml becomes app.staging.yml holding only what differs; both plan', async () => {
  const root = emptyProject();
  const r = await importKamalFiles(root, { deployPath: deployOf('destinations') });
  assert.deepEqual(r.destinations, ['staging']);
  const override = parse(readFileSync(join(root, 'apps', 'shop', 'app.staging.yml'), 'utf8'));
  assert.deepEqual(override, { hosts: ['h-203-0-113-31'], domains: ['staging.shop.example.net'], env: { MODE: 'staging' } });
  const hosts = JSON.parse(readFileSync(join(root, 'hosts.json'), 'utf8')).hosts;
  assert.deepEqual(Object.keys(hosts), ['h-203-0-113-30', 'h-203-0-113-31']);
  const p = await plan({ root, env: {}, log: { output: () => {}, addSecrets: () => {} } }, { apps: ['shop', 'shop-staging'] });
  assert.ok(p.files.some((f) => f.path === 'compose/shop-staging/compose.yml'));
});

test('overrideOf: the smallest override (mergeOverride semantics)', () => {
  assert.deepEqual(overrideOf({ a: 1, b: { c: 1, d: 2 }, l: [1, 2], gone: 1 }, { a: 1, b: { c: 1, d: 3 }, l: [1] }), { b: { d: 3 }, l: [1], gone: null });
  const base = { a: 1, b: { c: 1, d: 2 }, gone: 1 };
  const dest = { a: 2, b: { c: 1, d: 3 } };
  assert.deepEqual(mergeOverride(base, overrideOf(base, dest)), dest);
});

// ---------------------------------------------------------------- topologies, destinations, ERB

test('servers only in destination files: app.yml is production, the others its overrides; all plan', async () => {
  const root = emptyProject();
  const r = await importKamalFiles(root, { deployPath: deployOf('require-destination') });
  const app = parse(readFileSync(join(root, r.appFile), 'utf8')) as Obj;
  const hosts = JSON.parse(readFileSync(join(root, 'hosts.json'), 'utf8')).hosts;
  assert.deepEqual(app.hosts.map((h: string) => hosts[h].ssh), ['root@203.0.113.51', 'root@203.0.113.52']);
  assert.deepEqual(r.destinations, ['staging']);
  const staging = parse(readFileSync(join(root, 'apps', 'blog', 'app.staging.yml'), 'utf8')) as Obj;
  assert.deepEqual(staging.hosts.map((h: string) => hosts[h].ssh), ['root@203.0.113.53']);
  assert.deepEqual(staging.domains, ['staging.blog.example.com']);
  assert.ok(r.notes.some((n) => n.key === 'servers' && /names no servers .*app\.yml is destination production/.test(n.text)));
  const p = await plan({ root, env: {}, log: { output: () => {}, addSecrets: () => {} } }, {});
  assert.ok(p.files.some((f) => f.path === 'compose/blog-staging/compose.yml'));
});

test('ERB the import cannot read is named by its line, with what to do; nothing is written', async () => {
  const root = emptyProject();
  const dir = mkdtempSync(join(tmpdir(), 'kml-erb-'));
  roots.push(dir);
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config', 'deploy.yml'), 'service: erb\nimage: acme/erb\n# <%= anything in a comment is never read %>\nservers:\n  web:\n    - <%= File.read("hosts").strip %>\n');
  await assert.rejects(importKamalFiles(root, { deployPath: join(dir, 'config', 'deploy.yml') }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.issues.length, 1);
    assert.match(e.message, /deploy\.yml:6: expected ERB the import can read: .*got "<%= File\.read\(\\"hosts\\"\)\.strip %>"; Kamal renders this Ruby; import its rendered config instead: kamal config > /);
    return true;
  });
  // A server read from the environment: the value now, else the line and what to export.
  writeFileSync(join(dir, 'config', 'deploy.yml'), 'service: erb\nimage: acme/erb\nservers:\n  web:\n    - <%= ENV["ERB_WEB_HOST"] %>\n');
  await assert.rejects(importKamalFiles(root, { deployPath: join(dir, 'config', 'deploy.yml') }), /deploy\.yml:5: servers\.web\.0: expected a value for <%= ENV\["ERB_WEB_HOST"\] %> .*export ERB_WEB_HOST=/);
  assert.ok(!existsSync(join(root, 'apps', 'erb')));
  process.env.ERB_WEB_HOST = '203.0.113.61';
  try {
    const r = await importKamalFiles(root, { deployPath: join(dir, 'config', 'deploy.yml') });
    const app = parse(readFileSync(join(root, r.appFile), 'utf8')) as Obj;
    assert.equal(JSON.parse(readFileSync(join(root, 'hosts.json'), 'utf8')).hosts[app.hosts[0]].ssh, 'root@203.0.113.61');
  } finally {
    delete process.env.ERB_WEB_HOST;
  }
});

test('an accessory reached from a server whose private address is unknown: the one line to decide, and the choices', () => {
  const deploy = {
    service: 'pub', image: 'acme/pub',
    servers: { web: ['203.0.113.71'] },
    accessories: { db: { image: 'postgres:16', host: '203.0.113.72', port: 5432 } },
  };
  assert.throws(() => importKamal({ deploy, deployFile: 'config/deploy.yml' }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.issues.length, 1);
    assert.equal(e.issues[0]!.path, 'accessories.db.port');
    assert.match(e.message, /give the port the accessory host's private address \(e\.g\. port: "10\.0\.0\.3:5432:5432"\), or add "private_ip" to h-203-0-113-72 in hosts\.json/);
    return true;
  });
  // The same server already in hosts.json with its private_ip: nothing to decide.
  const r = importKamal({ deploy, deployFile: 'config/deploy.yml', existingHosts: { db1: { ssh: 'root@203.0.113.72:22', private_ip: '10.1.0.2' } } });
  assert.equal((r.app.accessories as Obj).db.host, 'db1');
});
