// Seed 004 (running_calendar), end to end with only the commands an operator types: the app reaches
// its PostgreSQL 16 accessory through DB_HOST; 5432 is bound to the host's loopback only (and, on
// the fleet, unreachable from another machine); pg_dump runs on schedule into the seed's folder and
// a dump restores; www. redirects to the apex; HTTPS is forced; a bare host is set up hardened
// (UFW, fail2ban, key-only SSH) when the sandbox has bare machines.
// The config is the committed apps/running_calendar/app.yml; the sandbox changes only the host
// (h1 for calendar1), the domain (*.berth.test), ghcr.io → the sandbox registry (token from the
// environment), the build context (the Rails stand-in as a committed repository, whose Dockerfile
// has the PostgreSQL client like the seed's) and the dump schedule (every 3 s instead of 03:00, so
// the schedule is seen working within the test).
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { REGISTRY } from '../../src/sandbox/config.ts';
import { httpRequest, httpsRequest, waitFor } from '../../src/sandbox/http.ts';
import { REPO_ROOT } from '../../src/sandbox/paths.ts';
import { railsAppRepo, type AppRepo } from './support/rails-repo.ts';
import { H1, H2, H3, hostsFor, makeProject, resetApps, type TestProject } from './support/project.ts';
import { exampleApp, onDocker, onHostShell, serviceContainer, toSandboxRegistry, type Config } from './support/seeds.ts';

const APP = 'seed-running_calendar';
const DOMAIN = 'seed-running-calendar.berth.test';
const DB = 'running_calendar-db';
const env = { KAMAL_REGISTRY_PASSWORD: REGISTRY.password, POSTGRES_PASSWORD: 'pg-seed-7c1e9a2b' };
// The fleet (machines h1..h3, h3 bare) is in the sandbox when its helpers are.
const FLEET = existsSync(join(REPO_ROOT, 'src', 'sandbox', 'fleet.ts'));
const noFleet = FLEET ? undefined : 'needs the sandbox fleet (machines h2, h3); the sandbox here has one host';

let p: TestProject;
let repo: AppRepo;
let dumpDir = '';
let dumpsBefore = new Set<string>();

function sandboxConfig(): Config {
  const c = toSandboxRegistry(exampleApp('running_calendar'), `example-user/${APP}`);
  const acc = c.accessories[DB];
  return {
    ...c,
    hosts: [H1.name],
    domains: [DOMAIN],
    build: { ...c.build, context: relative(join(p.root, 'apps', APP), repo.dir) }, // the app repository, beside the project
    accessories: { [DB]: { ...acc, backup: { ...acc.backup, schedule: 'every:3s' } } },
  };
}

const dumps = () => onHostShell(H1, `ls ${dumpDir} 2>/dev/null || true`).split('\n').filter((f) => f.startsWith(`${DB}-`) && f.endsWith('.sql.gz') && !dumpsBefore.has(f));
const psql = (sql: string) => onDocker(H1, 'exec', serviceContainer(H1, APP, DB), 'psql', '-U', 'postgres', '-d', 'running_calendar_production', '-tAc', sql);

before(async () => {
  resetApps([APP]);
  repo = railsAppRepo('seed-running-calendar-');
  p = makeProject('seed-running-calendar-');
  const config = sandboxConfig();
  dumpDir = config.accessories[DB].backup.dir;
  dumpsBefore = new Set(onHostShell(H1, `ls ${dumpDir} 2>/dev/null || true`).split('\n'));
  p.writeApp(APP, config);
  const setup = await p.berth('setup', [H1.name], env);
  assert.equal(setup.code, 0, setup.all);
  const d = await p.berth('deploy', [APP], env);
  assert.equal(d.code, 0, d.all);
  assert.ok(!d.all.includes(env.POSTGRES_PASSWORD), 'the database password never shows');
});

after(() => {
  resetApps([APP]); // stops the dump loop first
  const mine = dumpDir ? dumps() : [];
  if (mine.length) onHostShell(H1, `cd ${dumpDir} && rm -f ${mine.join(' ')}`);
  p?.cleanup();
  repo?.cleanup();
});

test('the app reaches PostgreSQL 16 through DB_HOST', async () => {
  // The first answer over a verified certificate (Traefik serves its default one until ACME issued).
  const r = await waitFor('/db over verified HTTPS', async () => {
    const res = await httpsRequest(`https://${DOMAIN}/db`, { timeoutMs: 10_000 }).catch(() => undefined);
    return res?.status === 200 ? res : undefined;
  }, { timeoutMs: 90_000, intervalMs: 1000 });
  const db = JSON.parse(r.body) as { db_host: string; database: string; server_version: string };
  assert.equal(db.db_host, DB);
  assert.equal(db.database, 'running_calendar_production');
  assert.match(db.server_version, /^16\./);
});

test('port 5432 is published on the host\'s loopback only', () => {
  assert.match(onDocker(H1, 'port', serviceContainer(H1, APP, DB)), /^5432\/tcp -> 127\.0\.0\.1:5432$/m);
  assert.equal(onHostShell(H1, `timeout 3 bash -c 'echo > /dev/tcp/127.0.0.1/5432' && echo open || echo closed`), 'open', 'reachable on the host itself');
});

test('port 5432 is unreachable from another host (h2), which does reach h1\'s SSH', { skip: noFleet }, () => {
  const probe = (port: number) => onHostShell(H2, `timeout 3 bash -c 'echo > /dev/tcp/${H1.address}/${port}' 2>/dev/null && echo open || echo closed`);
  assert.equal(probe(22), 'open', `h2 reaches h1 (${H1.address}) at all`);
  assert.equal(probe(5432), 'closed');
});

test('pg_dump runs on schedule into the seed\'s folder, keeps 7, and a dump restores', async () => {
  assert.equal(dumpDir, '/opt/backups/postgres');
  psql('create table runs (id serial primary key, km int); insert into runs (km) select g from generate_series(1, 5) g');
  // A dump taken after the table exists (the loop runs every 3 s).
  const t = Date.now();
  const chosen = await waitFor('a scheduled dump after the insert', async () => {
    const fresh = dumps().filter((f) => Date.parse(f.replace(/^.*-(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z\.sql\.gz$/, '$1-$2-$3T$4:$5:$6Z')) >= t + 1000);
    return fresh.sort().pop();
  }, { timeoutMs: 30_000, intervalMs: 500 });
  await waitFor('rotation keeps 7', async () => (dumps().length >= 7 ? true : undefined), { timeoutMs: 40_000, intervalMs: 1000 });
  await new Promise((res) => setTimeout(res, 4000)); // one more cycle: rotation runs after each dump
  assert.ok(onHostShell(H1, `ls ${dumpDir}`).split('\n').filter((f) => f.startsWith(`${DB}-`)).length <= 7, 'at most 7 kept');
  const st = await p.berth('backup-status', [APP, '--json'], env);
  assert.equal(st.code, 0, st.all);
  psql('drop table runs');
  const r = await p.berth('backup-restore', [APP, '--accessory', DB, '--dump', chosen], env);
  assert.equal(r.code, 0, r.all);
  assert.equal(psql('select count(*) from runs'), '5', 'the dump restored the table');
});

test('www. redirects to the apex over HTTPS; HTTP is forced to HTTPS for both', async () => {
  const www = await httpsRequest(`https://www.${DOMAIN}/up`, { timeoutMs: 10_000 });
  assert.ok([301, 302, 307, 308].includes(www.status), `www answers ${www.status}`);
  assert.equal(www.headers.location, `https://${DOMAIN}/up`);
  for (const host of [DOMAIN, `www.${DOMAIN}`]) {
    const plain = await httpRequest(`http://${host}/up`, { timeoutMs: 5000 });
    assert.ok([301, 302, 307, 308].includes(plain.status), `${host} over HTTP answers ${plain.status}`);
    assert.match(plain.headers.location ?? '', /^https:\/\//);
  }
  assert.equal((await httpsRequest(`https://${DOMAIN}/up`)).status, 200);
});

test('setup of a bare host, hardened as the seed asks (UFW 22/80/443, fail2ban, key-only SSH)', { skip: noFleet }, async () => {
  const h3 = H3;
  const hosts = hostsFor([H1, h3]) as { hosts: Record<string, Record<string, unknown>> };
  hosts.hosts[h3.name]!.hardening = { ufw: true, fail2ban: true, ssh_key_only: true };
  writeFileSync(join(p.root, 'hosts.json'), JSON.stringify(hosts, null, 2));
  const r = await p.berth('setup', [h3.name, '--harden'], env);
  assert.equal(r.code, 0, r.all);
  assert.match(onHostShell(h3, 'docker version --format "{{.Server.Version}}"'), /^\d+\./, 'Docker installed on the bare host');
  const ufw = onHostShell(h3, 'ufw status');
  assert.match(ufw, /Status: active/);
  for (const port of ['22', '80', '443']) assert.match(ufw, new RegExp(`^${port}(/tcp)?\\s+ALLOW`, 'm'));
  assert.match(onHostShell(h3, 'fail2ban-client status sshd'), /Status for the jail: sshd/);
  assert.match(onHostShell(h3, 'sshd -T | grep -i "^passwordauthentication"'), /no/);
});
