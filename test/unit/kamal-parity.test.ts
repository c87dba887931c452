// The commands Kamal users reach for, pure layers and CLI refusals: --hosts/--roles selection,
// destinations (app.<destination>.yml), config (defaults, no secret values), version, lock status
// parsing, remove's confirmation, and the edge summary behind `details`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { showConfig } from '../../src/app/config-show.ts';
import { findApp } from '../../src/app/app-context.ts';
import { parseLockStatus } from '../../src/app/lock-admin.ts';
import { removeConfirmation } from '../../src/app/remove.ts';
import { destinationFiles, mergeOverride } from '../../src/config/destinations.ts';
import { filterHosts, parseHostFilter } from '../../src/config/host-filter.ts';
import { loadProject } from '../../src/config/load.ts';
import { UnknownNameError } from '../../src/errors.ts';
import { appProject, lockDir, releasesDir, backupsDir, appSecretsDir } from '../../src/names.ts';
import { parseEdgeApi, summariseEdge } from '../../src/plan/edge-details.ts';
import { renderApp } from '../../src/plan/render-app.ts';
import { targetApp } from '../../src/cli/targeting.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

// A stateless app on three hosts (volumes are one-host only), and its staging destination.
const APP = {
  image: 'ghcr.io/acme/shop:1.0',
  hosts: ['h1', 'h2', 'h3'],
  domains: ['shop.example.com'],
  env: { MODE: 'prod' },
  secrets: ['RAILS_MASTER_KEY'],
};
// A SQLite app with Litestream on one host.
const NOTES = {
  image: 'ghcr.io/acme/notes:1.0',
  hosts: ['h1'],
  domains: ['notes.example.com'],
  secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
  volumes: { storage: '/rails/storage' },
  litestream: { databases: ['/rails/storage/production.sqlite3'], replica: { url: 's3://backups/notes' } },
};

function project(files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'kml-parity-'));
  roots.push(root);
  mkdirSync(join(root, 'shared'));
  mkdirSync(join(root, 'apps', 'shop'), { recursive: true });
  writeFileSync(join(root, 'shared', 'edge.yml'), 'acme:\n  email: ops@example.com\n');
  writeFileSync(
    join(root, 'hosts.json'),
    JSON.stringify({ hosts: { h1: { ssh: 'root@10.0.0.1', roles: ['web'] }, h2: { ssh: 'root@10.0.0.2', roles: ['web', 'job'] }, h3: { ssh: 'root@10.0.0.3', roles: ['job'] }, s1: { ssh: 'root@10.0.1.1', roles: ['staging'] } } }),
  );
  writeFileSync(join(root, 'apps', 'shop', 'app.yml'), JSON.stringify(APP));
  mkdirSync(join(root, 'apps', 'notes'));
  writeFileSync(join(root, 'apps', 'notes', 'app.yml'), JSON.stringify(NOTES));
  for (const [p, text] of Object.entries(files)) writeFileSync(join(root, p), text);
  return root;
}

const STAGING = 'hosts: [s1]\ndomains: [staging.shop.example.com]\nenv: { MODE: staging }\n';
const NOTES_STAGING = 'hosts: [s1]\ndomains: [staging.notes.example.com]\n'; // same replica URL as production

// ---------------------------------------------------------------- --hosts / --roles

test('--hosts / --roles select among the app\'s hosts (both: the intersection)', async () => {
  const p = await loadProject(project());
  const app = findApp(p, 'shop');
  const table: [Record<string, string>, string[]][] = [
    [{}, ['h1', 'h2', 'h3']],
    [{ hosts: 'h2' }, ['h2']],
    [{ hosts: 'h3,h1' }, ['h1', 'h3']],
    [{ roles: 'job' }, ['h2', 'h3']],
    [{ roles: 'web' }, ['h1', 'h2']],
    [{ hosts: 'h1,h2', roles: 'job' }, ['h2']],
  ];
  for (const [flags, want] of table) assert.deepEqual(filterHosts(app, p.hosts, parseHostFilter(flags)), want, JSON.stringify(flags));
  assert.throws(() => filterHosts(app, p.hosts, parseHostFilter({ hosts: 's1' })), /shop does not deploy to s1 \(its hosts: h1, h2, h3/);
  assert.throws(() => filterHosts(app, p.hosts, parseHostFilter({ roles: 'staging' })), /no host of shop has role staging/);
  assert.throws(() => filterHosts(app, p.hosts, parseHostFilter({ hosts: 'h1', roles: 'job' })), /select none/);
  assert.throws(() => parseHostFilter({ hosts: 'h1;rm -rf /' }), /--hosts takes a comma-separated list/);
  assert.throws(() => parseHostFilter({ roles: '' }), /--roles/);
});

// ---------------------------------------------------------------- destinations

test('destinationFiles and mergeOverride', () => {
  assert.deepEqual(destinationFiles(['app.yml', 'app.staging.yml', 'app.config.ts', 'app.Bad.yml', 'app.qa.json', 'notes.md']), [
    { destination: 'qa', file: 'app.qa.json' },
    { destination: 'staging', file: 'app.staging.yml' },
  ]);
  assert.deepEqual(mergeOverride({ a: 1, b: { c: 2, d: [1, 2] }, e: 'x' }, { b: { d: [3] }, e: null, f: 4 }), { a: 1, b: { c: 2, d: [3] }, f: 4 });
});

test('a destination is its own app: own hosts, domains, compose project, releases, lock, secrets, backups and replica path', async () => {
  const root = project({ 'apps/shop/app.staging.yml': STAGING, 'apps/notes/app.staging.yml': NOTES_STAGING });
  const p = await loadProject(root);
  const prod = findApp(p, 'shop');
  const staging = findApp(p, 'shop-staging');
  assert.equal(staging.file, 'apps/shop/app.staging.yml');
  assert.equal(staging.dir, prod.dir); // one app folder (same Dockerfile, hooks, build context)
  assert.deepEqual(filterHosts(staging, p.hosts), ['s1']);
  assert.deepEqual(staging.config.domains, ['staging.shop.example.com']);
  assert.equal(staging.config.env.MODE, 'staging');
  assert.equal(staging.config.image, prod.config.image); // inherited
  for (const name of [appProject, lockDir, releasesDir, backupsDir, appSecretsDir]) assert.notEqual(name(staging.name), name(prod.name), name.name);
  const compose = renderApp(p, staging, { release: 'r1' }).files.find((f) => f.path.endsWith('compose.yml'))!.content;
  assert.match(compose, /name: berth-shop-staging/);
  // Same replica URL inherited from app.yml: the replica path is still staging's own.
  const notes = findApp(p, 'notes');
  const notesStaging = findApp(p, 'notes-staging');
  assert.equal(notesStaging.config.litestream!.replica.url, notes.config.litestream!.replica.url);
  const ls = (a: typeof notes) => renderApp(p, a, { release: 'r1' }).files.find((f) => f.path.endsWith('litestream.yml'))!.content;
  const paths = (text: string) => [...text.matchAll(/path: (\S+)/g)].map((m) => m[1]).filter((x) => !x!.startsWith('/'));
  assert.ok(paths(ls(notesStaging)).length > 0, ls(notesStaging));
  for (const x of paths(ls(notesStaging))) assert.ok(!paths(ls(notes)).includes(x), `${x} is production's`);
  assert.match(ls(notesStaging), /notes-staging/);
  assert.equal(targetApp(root, 'shop', 'staging'), 'shop-staging');
  assert.throws(() => targetApp(root, 'shop', 'qa'), (e: unknown) => e instanceof UnknownNameError && /apps\/shop\/app\.qa\.yml/.test(e.message) && /destinations: staging/.test(e.message));
  assert.throws(() => targetApp(root, 'shop', '../x'), /--destination takes a name/);
});

test("validation refuses a destination that routes production's domain or publishes its port", async () => {
  const domain = project({ 'apps/shop/app.staging.yml': 'hosts: [s1]\n' });
  await assert.rejects(loadProject(domain), /apps\/shop\/app\.staging\.yml: domains\[0\]: expected a domain no other app claims/);
});

// ---------------------------------------------------------------- config

test('config: defaults filled in, hosts and secret sources shown, secret values never printed', async () => {
  const root = project({ 'apps/shop/app.staging.yml': STAGING });
  const value = 'rmk-9f8e7d6c5b4a';
  // A value pasted into a clear key as well: redacted too.
  writeFileSync(join(root, 'apps', 'shop', 'app.yml'), JSON.stringify({ ...APP, env: { MODE: 'prod', OOPS: value } }));
  const text = await showConfig(root, { BERTH_SECRET_RAILS_MASTER_KEY: value }, { app: 'shop', json: true });
  const r = JSON.parse(text);
  assert.equal(parse(await showConfig(root, { BERTH_SECRET_RAILS_MASTER_KEY: value }, { app: 'shop' })).compose_project, 'berth-shop'); // YAML by default
  assert.equal(r.compose_project, 'berth-shop');
  assert.equal(r.config.deploy.keep_releases, 5);
  assert.equal(r.config.healthcheck.path, '/up');
  assert.deepEqual(r.config.tls, { mode: 'acme', resolver: 'letsencrypt' });
  assert.deepEqual(Object.keys(r.hosts), ['h1', 'h2', 'h3']);
  assert.equal(r.secrets.RAILS_MASTER_KEY, 'environment (BERTH_SECRET_RAILS_MASTER_KEY)');
  assert.deepEqual(Object.keys(r.secrets), ['RAILS_MASTER_KEY']);
  const notes = JSON.parse(await showConfig(root, {}, { app: 'notes', json: true }));
  assert.match(notes.secrets.LITESTREAM_ACCESS_KEY_ID, /^MISSING/);
  assert.ok(!text.includes(value));
  assert.equal(r.config.env.OOPS, '[redacted]');
  const staging = parse(await showConfig(root, {}, { app: 'shop-staging', only: { roles: ['staging'] } }));
  assert.equal(staging.compose_project, 'berth-shop-staging');
  assert.equal(staging.config.env.MODE, 'staging');
});

// ---------------------------------------------------------------- lock, remove, details (pure parts)

test('lock status output parsing', () => {
  assert.deepEqual(parseLockStatus('h1', 'a', 'free\n'), { host: 'h1', app: 'a', held: false });
  assert.deepEqual(parseLockStatus('h1', 'a', 'held 12\n{"user":"root","machine":"m","pid":7,"command":"deploy a","since":"t"}\n'), {
    host: 'h1', app: 'a', held: true, idleSeconds: 12, holder: { user: 'root', machine: 'm', pid: 7, command: 'deploy a', since: 't' },
  });
  assert.deepEqual(parseLockStatus('h1', 'a', 'held 3\nnot json'), { host: 'h1', app: 'a', held: true, idleSeconds: 3, holder: {} });
});

test('remove needs --yes without a terminal, or the typed app name with one', () => {
  assert.deepEqual(removeConfirmation({ yes: true, tty: false, app: 'a' }), { ok: true });
  assert.match((removeConfirmation({ tty: false, app: 'a' }) as { reason: string }).reason, /without a terminal to confirm, rerun with --yes/);
  assert.deepEqual(removeConfirmation({ tty: true, typed: 'a\n', app: 'a' }), { ok: true });
  assert.match((removeConfirmation({ tty: true, typed: 'y', app: 'a' }) as { reason: string }).reason, /not confirmed/);
});

test("details: Traefik's routers and services per app, only the file provider's", () => {
  const api = parseEdgeApi(
    JSON.stringify({
      version: { Version: '3.6.15', Codename: 'ramequin' },
      routers: [
        { name: 'shop-https@file', provider: 'file', rule: 'Host(`shop.example.com`)', service: 'shop', status: 'enabled', entryPoints: ['websecure'], tls: { certResolver: 'letsencrypt' } },
        { name: 'shop-staging-https@file', provider: 'file', rule: 'Host(`s.shop.example.com`)', service: 'shop-staging', status: 'enabled', entryPoints: ['websecure'], tls: {} },
        { name: 'api@internal', provider: 'internal', rule: 'PathPrefix(`/api`)', service: 'api@internal', status: 'enabled' },
      ],
      services: [
        { name: 'shop@file', provider: 'file', loadBalancer: { servers: [{ url: 'http://shop-web-green:80' }] }, serverStatus: { 'http://shop-web-green:80': 'UP' } },
        { name: 'shop-staging@file', provider: 'file', loadBalancer: { servers: [{ url: 'http://shop-staging-web-blue:80' }] } },
      ],
    }),
  );
  const s = summariseEdge(api, ['shop', 'shop-staging']);
  assert.equal(s.reachable, true);
  assert.equal(s.version, '3.6.15');
  assert.deepEqual(s.routes.map((r) => [r.app, r.router, r.tls, r.servers]), [
    ['shop', 'shop-https', 'acme (letsencrypt)', ['http://shop-web-green:80 UP']],
    ['shop-staging', 'shop-staging-https', 'certificate', ['http://shop-staging-web-blue:80']],
  ]);
  assert.deepEqual(summariseEdge(parseEdgeApi('ssh: connect refused'), ['shop']), { reachable: false, routes: [] });
});

// ---------------------------------------------------------------- CLI

const run = (script: string, args: string[], root: string, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'scripts', 'berth.ts'), script, ...args], {
    cwd: repo, env: { PATH: process.env.PATH, HOME: process.env.HOME, BERTH_ROOT: root, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });

test('CLI: version, config -d, and refusals that never reach a host', () => {
  const root = project({ 'apps/shop/app.staging.yml': STAGING });
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const v = run('version', [], root);
  assert.equal(v.status, 0);
  assert.equal(v.stdout.trim(), `berth ${pkg.version} (node ${process.versions.node})`);
  const c = run('config', ['shop', '-d', 'staging', '--json'], root);
  assert.equal(c.status, 0, c.stderr);
  assert.equal(JSON.parse(c.stdout).app, 'shop-staging');
  // stdin is not a terminal: remove refuses without --yes (and never contacts the hosts in hosts.json, which do not exist).
  const rm = run('remove', ['shop'], root);
  assert.equal(rm.status, 2, 'a missing --yes without a terminal is a usage error');
  assert.match(rm.stderr, /rerun with --yes/);
  const lock = run('lock', ['steal', 'shop'], root);
  assert.equal(lock.status, 2);
  assert.match(lock.stderr, /usage: berth lock status\|release <app>/);
  const secrets = { BERTH_SECRET_RAILS_MASTER_KEY: 'x'.repeat(8) };
  const dep = run('deploy', ['shop', '--hosts', 's1'], root, secrets);
  assert.equal(dep.status, 2, 'a host the app does not use is a usage error');
  assert.match(dep.stderr, /shop does not deploy to s1/);
  const ex = run('exec', ['--hosts', 'h9', 'shop', 'ls'], root);
  assert.equal(ex.status, 2);
  assert.match(ex.stderr, /shop does not deploy to h9/);
});
