import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import { renderApp } from '../../src/plan/render-app.ts';
import { composeEnvValue } from '../../src/plan/render-compose.ts';
import { renderEdge } from '../../src/plan/render-edge.ts';
import { makeApp, makeProject } from './plan-fixtures.ts';

type Svc = Record<string, any>;
const composeOf = (files: { path: string; content: string }[]) => YAML.parse(files.find((f) => f.path === 'compose.yml')!.content) as { name: string; services: Record<string, Svc>; volumes?: Record<string, unknown>; secrets?: Record<string, { file: string }>; networks: Record<string, unknown> };

const full = makeApp('shop_app', {
  image: 'registry.example.com:5000/acme/shop',
  hosts: ['h1'],
  domains: ['shop.example.com'],
  port: 3000,
  command: 'bin/server --port $PORT',
  env: { B_FLAG: true, A_NUM: 2, URL: 'postgres://u:${DB_PASSWORD}@db/shop', LITERAL: 'cost $5 and $${HOME}' },
  secrets: ['RAILS_MASTER_KEY', 'DB_PASSWORD', 'S3_KEY', 'S3_SECRET'],
  volumes: { storage: '/rails/storage' },
  resources: { memory: '512M', cpus: 0.5 },
  workers: { jobs: { command: 'bin/jobs' } },
  litestream: {
    databases: ['/rails/storage/production.sqlite3', '/rails/storage/cache.sqlite3'],
    replica: { url: 's3://bucket/prefix/', endpoint: 'http://s3.local:9000', force_path_style: true, access_key_id_secret: 'S3_KEY', secret_access_key_secret: 'S3_SECRET' },
  },
  accessories: {
    db: { image: 'postgres:16', port: '127.0.0.1:5432:5432', volumes: { pgdata: '/var/lib/postgresql/data' }, env: { POSTGRES_USER: 'shop' }, secrets: ['DB_PASSWORD'], backup: { schedule: '03:30', keep: 3 } },
    cache: { image: 'redis:7' },
  },
});
const project = makeProject([full]);
const render = renderApp(project, full, { release: 'abc1234' });
const doc = composeOf(render.files);

test('project, services and image', () => {
  assert.equal(doc.name, 'berth-shop-app');
  assert.deepEqual(Object.keys(doc.services), ['web-blue', 'web-green', 'worker-jobs', 'litestream', 'cache', 'db', 'db-backup']);
  assert.equal(render.image, 'registry.example.com:5000/acme/shop:abc1234');
  assert.equal(doc.services['web-blue']!.image, render.image);
  assert.deepEqual(render.hosts, ['h1']);
});

test('web colours are identical but for colour label and alias, and publish no port', () => {
  const { ['web-blue']: blue, ['web-green']: green } = doc.services;
  assert.equal(blue!.ports, undefined);
  assert.equal(blue!.labels['berth.colour'], 'blue');
  assert.deepEqual(blue!.networks, { berth: { aliases: ['shop-app-web-blue'] }, default: {} });
  const strip = (s: Svc) => ({ ...s, labels: { ...s.labels, 'berth.colour': '' }, networks: undefined });
  assert.deepEqual(strip(blue!), strip(green!));
  assert.deepEqual(blue!.labels, {
    'berth.app': 'shop_app',
    'berth.colour': 'blue',
    'berth.config-hash': blue!.labels['berth.config-hash'],
    'berth.managed': 'true',
    'berth.release': 'abc1234',
    'berth.role': 'web',
    'berth.secrets': '${BERTH_SECRETS_ID:-}',
  });
  assert.match(blue!.labels['berth.config-hash'], /^[0-9a-f]{16}$/);
  assert.equal(blue!.stop_grace_period, '30s');
  assert.equal(blue!.mem_limit, '512m');
  assert.equal(blue!.cpus, 0.5);
  assert.deepEqual(blue!.healthcheck.test, ['CMD-SHELL', 'curl -fsS http://127.0.0.1:3000/up > /dev/null || exit 1']);
  assert.equal(blue!.healthcheck.start_interval, '100ms', 'the default start_interval reaches compose');
  assert.equal(blue!.command, 'bin/server --port $$PORT', 'a literal $ reaches the container');
  assert.deepEqual(blue!.volumes, ['storage:/rails/storage']);
  assert.equal(blue!.logging.driver, 'json-file');
});

test('env: plain values sorted and stringified; secrets as files, never container env', () => {
  for (const svc of ['web-blue', 'worker-jobs']) {
    const s = doc.services[svc]!;
    const env = s.environment as Record<string, string>;
    // Litestream's keys are Berth's to use, not the app's: they stay out of the app's mounts.
    assert.deepEqual(Object.keys(env), ['A_NUM', 'B_FLAG', 'LITERAL', 'URL', 'BERTH_IMAGE_ENTRYPOINT', 'BERTH_IMAGE_CMD', 'BERTH_SECRET_TEMPLATES']);
    assert.equal(env.A_NUM, '2');
    assert.equal(env.B_FLAG, 'true');
    assert.equal(env.LITERAL, 'cost $$5 and $${HOME}');
    // The reference reaches the container as text; the wrapper expands it from the mounted file.
    assert.equal(env.URL, 'postgres://u:$${DB_PASSWORD}@db/shop');
    assert.equal(env.BERTH_SECRET_TEMPLATES, 'URL');
    assert.equal(env.BERTH_IMAGE_ENTRYPOINT, '${BERTH_IMAGE_ENTRYPOINT:-}');
    assert.deepEqual(s.secrets, ['DB_PASSWORD', 'RAILS_MASTER_KEY']);
    assert.deepEqual(s.entrypoint.slice(0, 2), ['/bin/sh', '-c']);
    assert.doesNotMatch(s.entrypoint[2].replace(/\$\$/g, ''), /\$/, 'every $ of the wrapper is escaped for compose');
    for (const v of Object.values(env)) assert.doesNotMatch(v.replace(/\$\$/g, ''), /\$\{(DB_PASSWORD|RAILS_MASTER_KEY|S3_KEY|S3_SECRET)/, 'no secret is interpolated into env');
  }
  assert.equal(composeEnvValue('a$b$$c${X}'), 'a$$b$$c${X}');
});

test('accessories: published port, secrets as files with NAME_FILE, default health checks', () => {
  const db = doc.services.db!;
  assert.deepEqual(db.ports, ['127.0.0.1:5432:5432']);
  assert.deepEqual(db.secrets, ['DB_PASSWORD']);
  assert.equal(db.environment.DB_PASSWORD_FILE, '/run/secrets/DB_PASSWORD');
  assert.equal(db.environment.DB_PASSWORD, undefined);
  assert.deepEqual(db.healthcheck.test, ['CMD-SHELL', 'pg_isready -U "$${POSTGRES_USER:-postgres}"']);
  assert.deepEqual(doc.services.cache!.healthcheck.test, ['CMD-SHELL', 'redis-cli ping']);
  assert.deepEqual(Object.keys(doc.secrets!), ['DB_PASSWORD', 'RAILS_MASTER_KEY', 'S3_KEY', 'S3_SECRET']);
  // Each release mounts its own secret set, named in its env file (the compose file cannot name it).
  assert.deepEqual(doc.secrets!.DB_PASSWORD, { file: '/etc/berth/shop_app/sets/${BERTH_SECRETS_ID:-none}/DB_PASSWORD' });
  // Support services carry the set of only the secrets they mount: another secret never recreates them.
  assert.equal(db.labels['berth.secrets'], '${BERTH_SECRETS_ID_DB:-}');
  assert.equal(doc.services['db-backup']!.labels['berth.secrets'], '${BERTH_SECRETS_ID_DB_BACKUP:-}');
  assert.equal(doc.services.litestream!.labels['berth.secrets'], '${BERTH_SECRETS_ID_LITESTREAM:-}');
  assert.equal(doc.services.cache!.labels['berth.secrets'], undefined, 'no secret, no label');
  assert.deepEqual(doc.volumes, { pgdata: {}, storage: {} });
  assert.deepEqual(doc.networks, { berth: { external: true }, default: {} });
  assert.equal(db.labels['berth.release'], undefined, 'accessories are not recreated per release');
});

test('postgres backup service: same image, loop script, bind mount of the backups dir', () => {
  const b = doc.services['db-backup']!;
  assert.equal(b.image, 'postgres:16');
  assert.equal(b.entrypoint[0], '/bin/sh');
  assert.match(b.entrypoint[2], /pg_dump/);
  assert.doesNotMatch(b.entrypoint[2].replace(/\$\$/g, ''), /\$/, 'every $ of the script is escaped for compose');
  assert.deepEqual(b.command, ['loop']);
  // timezone defaults to "host": the server's own zone file, read-only, so 03:30 is the server's 03:30.
  assert.deepEqual(b.volumes, ['/var/lib/berth/backups/shop_app/db:/backups', '/etc/localtime:/etc/localtime:ro']);
  assert.equal(b.environment.TZ, undefined);
  assert.equal(b.environment.BERTH_BACKUP_SCHEDULE, '03:30');
  assert.equal(b.environment.BERTH_BACKUP_KEEP, '3');
  assert.equal(b.environment.BERTH_BACKUP_HOST, 'db');
  assert.deepEqual(b.secrets, ['DB_PASSWORD']);
});

test('postgres backup service: backup.dir and backup.timezone', () => {
  const backupOf = (backup: Record<string, unknown>) => {
    const a = makeApp('cal', { image: 'x/cal', hosts: ['h1'], accessories: { pg: { image: 'postgres:16', backup } } });
    return composeOf(renderApp(makeProject([a]), a, { release: 'r1' }).files).services['pg-backup']!;
  };
  const berlin = backupOf({ schedule: '03:00', timezone: 'Europe/Berlin', dir: '/opt/backups/postgres' });
  assert.deepEqual(berlin.volumes, ['/opt/backups/postgres:/backups', '/usr/share/zoneinfo/Europe/Berlin:/etc/localtime:ro']);
  const utc = backupOf({ timezone: 'UTC' });
  assert.deepEqual(utc.volumes, ['/var/lib/berth/backups/cal/pg:/backups']);
  assert.equal(utc.environment.TZ, 'UTC');
});

test('litestream: one service, same volumes, config mounted read-only, labelled with its hash', () => {
  const ls = doc.services.litestream!;
  assert.deepEqual(ls.command, ['litestream', 'replicate']);
  assert.equal(ls.entrypoint[0], '/bin/sh');
  assert.deepEqual(ls.volumes, ['storage:/rails/storage', '/var/lib/berth/apps/shop_app/litestream.yml:/etc/litestream.yml:ro']);
  assert.equal(ls.environment, undefined, 'credentials are mounted files, not env');
  assert.deepEqual(ls.secrets, [{ source: 'S3_KEY', target: 'LITESTREAM_ACCESS_KEY_ID' }, { source: 'S3_SECRET', target: 'LITESTREAM_SECRET_ACCESS_KEY' }]);
  assert.equal(ls.restart, 'unless-stopped');
  const yml = render.files.find((f) => f.path === 'litestream.yml')!.content;
  const conf = YAML.parse(yml);
  // <prefix>/<app>/<full database path>: a copy of the app under another name, or a database with the
  // same file name in another folder, never shares a replica.
  assert.deepEqual(conf.dbs.map((d: { replica: { path: string } }) => d.replica.path), ['prefix/shop_app/rails/storage/production.sqlite3', 'prefix/shop_app/rails/storage/cache.sqlite3']);
  const twin = renderApp(makeProject([{ ...full, name: 'shop_staging' }]), { ...full, name: 'shop_staging' }, { release: 'abc1234' });
  const twinConf = YAML.parse(twin.files.find((f) => f.path === 'litestream.yml')!.content);
  assert.deepEqual(twinConf.dbs.map((d: { replica: { path: string } }) => d.replica.path), ['prefix/shop_staging/rails/storage/production.sqlite3', 'prefix/shop_staging/rails/storage/cache.sqlite3']);
  assert.equal(conf.dbs[0].replica['force-path-style'], true);
  assert.equal(conf.dbs[0].replica.endpoint, 'http://s3.local:9000');
  assert.doesNotMatch(yml, /access-key|secret-access/);
  // A new release does not change the litestream service (so compose leaves it running).
  const next = composeOf(renderApp(project, full, { release: 'def5678' }).files);
  assert.deepEqual(next.services.litestream, ls);
  assert.deepEqual(next.services.db, doc.services.db);
  assert.notDeepEqual(next.services['web-blue'], doc.services['web-blue']);
});

test('a tagged image keeps its tag', () => {
  const app = makeApp('tagged', { image: 'ghcr.io/acme/app:1.2.3', hosts: ['h1'] });
  assert.equal(renderApp(makeProject([app]), app, { release: '1.2.3' }).image, 'ghcr.io/acme/app:1.2.3');
});

test('hosts: explicit hosts plus roles', () => {
  const app = makeApp('r', { image: 'x/y', roles: ['db'] });
  assert.deepEqual(renderApp(makeProject([app]), app, { release: 'a' }).hosts, ['h2']);
});

test('secret names: app, accessories and litestream, no values', () => {
  assert.deepEqual(render.secrets, ['DB_PASSWORD', 'RAILS_MASTER_KEY', 'S3_KEY', 'S3_SECRET']);
});

test('rendering is deterministic and hashes files', () => {
  assert.deepEqual(renderApp(project, full, { release: 'abc1234' }), render);
  assert.match(render.configHash, /^[0-9a-f]{64}$/);
  assert.notEqual(renderApp(project, full, { release: 'other' }).configHash, render.configHash);
  for (const f of render.files) assert.match(f.content, /^# Generated by Berth from apps\/shop_app\/app\.yml\. Do not edit/);
});

test('edge: traefik without the docker socket, socket proxy read-only on an internal network', () => {
  const p = makeProject([], {
    acme: {
      email: 'ops@example.com',
      ca: 'custom',
      ca_server: 'https://pebble:14000/dir',
      ca_root: 'pebble.pem',
      resolvers: { le: { challenge: 'http-01' }, cf: { challenge: 'dns-01', provider: 'cloudflare', token_secret: 'CF_TOKEN' } },
    },
    // Not 8080: Traefik's API listens on 127.0.0.1:8080 (config rule uniqueHostPorts refuses it).
    entrypoints: { http: 8000, https: 8443 },
  });
  const r = renderEdge(p);
  const c = composeOf(r.files);
  assert.equal(c.name, 'berth-edge');
  const t = c.services.traefik!;
  assert.deepEqual(t.command, ['--configFile=/etc/traefik/traefik.yml']);
  assert.deepEqual(t.ports, ['8000:80', '8443:443', '127.0.0.1:8080:8080']);
  assert.equal(new Set(t.ports.map((p: string) => p.split(':').at(-2))).size, t.ports.length, 'two host ports collide');
  assert.ok(!t.volumes.some((v: string) => v.includes('docker.sock')));
  assert.ok(t.volumes.includes('/var/lib/berth/edge/ca/root.pem:/etc/traefik/ca/root.pem:ro'));
  assert.deepEqual(t.environment, { CF_DNS_API_TOKEN_FILE: '/run/secrets/CF_TOKEN', LEGO_CA_CERTIFICATES: '/etc/traefik/ca/root.pem' });
  assert.deepEqual(c.secrets, { CF_TOKEN: { file: '/etc/berth/edge/CF_TOKEN' } });
  assert.deepEqual(t.healthcheck.test, ['CMD', 'traefik', 'healthcheck', '--ping']);
  const sp = c.services['socket-proxy']!;
  assert.deepEqual(sp.volumes, ['/var/run/docker.sock:/var/run/docker.sock:ro']);
  assert.deepEqual(sp.networks, ['socket']);
  assert.equal(sp.environment.POST, '0');
  assert.deepEqual(c.networks, { berth: { external: true }, socket: { internal: true } });
  const st = YAML.parse(r.files.find((f) => f.path === 'traefik.yml')!.content);
  assert.equal(st.providers.docker.endpoint, 'tcp://socket-proxy:2375');
  assert.equal(st.providers.docker.exposedByDefault, false);
  assert.equal(st.certificatesResolvers.le.acme.caServer, 'https://pebble:14000/dir');
  assert.deepEqual(st.certificatesResolvers.le.acme.httpChallenge, { entryPoint: 'web' });
  assert.deepEqual(st.certificatesResolvers.cf.acme.dnsChallenge, { provider: 'cloudflare' });
  assert.equal(st.entryPoints.websecure.transport.lifeCycle.graceTimeOut, '10s');
  assert.deepEqual(r.secrets, ['CF_TOKEN']);
});

test('release command: its own one-off service (profile "release"), the web image, env, secrets and volumes, on the app network only', () => {
  const app = makeApp('migr', {
    image: 'x/migr', hosts: ['h1'], domains: ['m.example.com'], port: 3000, release_command: 'bin/rails db:migrate',
    env: { URL: 'postgres://u:${DB_PASSWORD}@db/m' }, secrets: ['DB_PASSWORD'], volumes: { storage: '/rails/storage' }, resources: { memory: '256M' },
    asset_path: '/rails/public/assets',
  });
  const c = composeOf(renderApp(makeProject([app]), app, { release: 'r1' }).files);
  const rel = c.services.release!;
  const web = c.services['web-blue']!;
  assert.deepEqual(rel.profiles, ['release']);
  assert.equal(rel.networks, undefined, 'on the default network only: the shared network costs a second interface per run');
  for (const k of ['image', 'entrypoint', 'environment', 'secrets', 'volumes', 'mem_limit', 'logging']) assert.deepEqual(rel[k], web[k], k);
  assert.equal(rel.labels['berth.role'], 'release');
  assert.equal(rel.labels['berth.colour'], undefined);
  assert.equal(rel.labels['berth.secrets'], web.labels['berth.secrets'], 'mounts the release set, as the colours do');
  for (const k of ['healthcheck', 'restart', 'ports', 'command']) assert.equal(rel[k], undefined, k);
  // No release command: no such service; the full app above has none either.
  assert.equal(doc.services.release, undefined);
});

test("a deploy's support services (started before the colour) leave out the release command's service", async () => {
  const { supportServices } = await import('../../src/app/deploy.ts');
  const app = makeApp('sup', { image: 'x/sup', hosts: ['h1'], release_command: 'bin/migrate', accessories: { cache: { image: 'redis:7' } }, workers: { jobs: { command: 'bin/jobs' } } });
  const r = renderApp(makeProject([app]), app, { release: 'r1' });
  assert.ok(composeOf(r.files).services.release);
  assert.deepEqual(supportServices(r), { waited: ['cache'], started: [] });
});
