// Placement across hosts as a user meets it (issue 20), on the topology lane's machines: web on h4 +
// h5 behind the front load balancer, a jobs worker on h5, PostgreSQL on h6 (bare: `setup` first,
// hardened), reached from h4 and h5 at the private address Berth provides (DB_HOST/DB_PORT). A
// rolling deploy with a migration under 50 req/s through the front; rollback; 5432 on h6 answers h4
// and h5 only; the pg_dump loop on h6; an imported Kamal config of that shape deploys.
// One setup and one deploy serve the assertions that follow them (the file's wall time is mostly
// installing Docker on h6 and the Rails image builds).
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { type FrontContainer, REGISTRY, run, sandboxRequest, startFront, startLoad, waitFor } from '../../src/sandbox/index.ts';
import { hostSpec } from '../../src/sandbox/config.ts';
import { fleet, fromHost, type MachineSpec } from './support/machines.ts';
import type { TestProject } from './support/project.ts';
import { type AppRepo, railsAppRepo } from './support/rails-repo.ts';
import { onDocker, onHostShell, serviceContainer } from './support/seeds.ts';

const APP = 'topo';
const IMP = 'topoimp';
const DOMAIN = 'topo.berth.test';
const IMP_DOMAIN = 'topoimp.berth.test';
const PG_PASSWORD = 'pg-topo-5c2e81d7';
const env = { KAMAL_REGISTRY_PASSWORD: REGISTRY.password, POSTGRES_PASSWORD: PG_PASSWORD };

const H4 = hostSpec('h4');
const H5 = hostSpec('h5');
const H6 = hostSpec('h6');
let F: ReturnType<typeof fleet>;
let p: TestProject;
let repo: AppRepo;
let front: FrontContainer;
const tags: Record<string, string> = {}; // release name → the repository commit it was built from

// The app's own code, as its repository holds it: a migration and a worker using Berth's DB_HOST/DB_PORT.
const MIGRATE = `#!/bin/sh
# The release command: one row per run, with the address it came from (inet_client_addr).
set -eu
export PGPASSWORD="$POSTGRES_PASSWORD"
psql -h "$DB_HOST" -p "$DB_PORT" -U postgres -d "$POSTGRES_DB" -v ON_ERROR_STOP=1 -q <<SQL
CREATE TABLE IF NOT EXISTS migrations (id serial PRIMARY KEY, release text, client inet DEFAULT inet_client_addr(), at timestamptz DEFAULT now());
CREATE TABLE IF NOT EXISTS beats (id serial PRIMARY KEY, release text, at timestamptz DEFAULT now());
INSERT INTO migrations (release) VALUES ('$RELEASE');
SQL
`;
const WORKER = `#!/bin/sh
# The jobs worker: a heartbeat row per second, naming its release.
export PGPASSWORD="$POSTGRES_PASSWORD"
trap 'exit 0' TERM INT
while :; do
  psql -h "$DB_HOST" -p "$DB_PORT" -U postgres -d "$POSTGRES_DB" -qc "INSERT INTO beats (release) VALUES ('$RELEASE')" >/dev/null 2>&1 || true
  sleep 1 & wait $!
done
`;

const appConfig = (release: string) => ({
  image: `${REGISTRY.address}/topo/app`,
  build: { context: relative(join(p.root, 'apps', APP), repo.dir), on: 'local', args: { RELEASE: release } },
  registry: { server: REGISTRY.address, username: REGISTRY.username, password_secret: 'KAMAL_REGISTRY_PASSWORD' },
  roles: ['web'],
  domains: [DOMAIN],
  tls: { mode: 'none' },
  port: 80,
  healthcheck: { path: '/up', interval: '2s', timeout: '2s', retries: 5, start_period: '30s' },
  release_command: 'bin/topo-migrate',
  // The release command migrates; the server does not prepare databases at boot (as a Rails app with one).
  env: { POSTGRES_DB: 'topo', DB_PREPARE_ON_BOOT: '0' },
  secrets: ['KAMAL_REGISTRY_PASSWORD', 'POSTGRES_PASSWORD'],
  workers: { jobs: { command: 'bin/topo-worker', roles: ['jobs'] } },
  accessories: {
    db: {
      image: 'postgres:16',
      host: 'h6',
      port: '5432:5432',
      volumes: { pgdata: '/var/lib/postgresql/data' },
      env: { POSTGRES_DB: 'topo' },
      secrets: ['POSTGRES_PASSWORD'],
      backup: { schedule: 'every:3s', keep: 3 },
    },
  },
  // Rolling: one web host at a time (Kamal's boot.limit 1); the database host goes before them.
  deploy: { retire_seconds: 3, stop_timeout_seconds: 10, health_timeout_seconds: 150, batch_size: 1 },
});

/** hosts.json: web on h4 and h5 (role web), jobs on h5, the database server h6 (hardened: UFW, key-only SSH). */
function writeHosts() {
  const hosts = F.hostsFor([H4, H5, H6]) as { hosts: Record<string, Record<string, unknown>> };
  for (const h of [H4, H5, H6]) hosts.hosts[h.name]!.private_ip = h.address;
  hosts.hosts.h4!.roles = ['web'];
  hosts.hosts.h5!.roles = ['web', 'jobs'];
  hosts.hosts.h6!.roles = ['db'];
  hosts.hosts.h6!.hardening = { ufw: true, fail2ban: false, ssh_key_only: true };
  writeFileSync(join(p.root, 'hosts.json'), JSON.stringify(hosts, null, 2));
}

/** A release of the app's code: the repository commit the image is built from (RELEASE names it in X-Release). */
function release(name: string) {
  tags[name] = repo.commit(`release ${name}`, { 'RELEASE_NOTES': `${name}\n` });
  p.writeApp(APP, appConfig(name));
}

const deploy = (app = APP) => p.berth('deploy', [app, '--json'], env);
const viaFront = (path = '/', host = DOMAIN) => sandboxRequest(`${front.httpUrl}${path}`, { headers: { host }, timeoutMs: 10_000 });
const psql = (sql: string, db = 'topo') => onDocker(H6, 'exec', serviceContainer(H6, APP, 'db'), 'psql', '-U', 'postgres', '-d', db, '-tAc', sql);
const services = (h: MachineSpec, app = APP) =>
  onHostShell(h, `docker ps --filter label=com.docker.compose.project=berth-${app} --format '{{.Label "com.docker.compose.service"}}' | sort -u`).split('\n').filter(Boolean);
/** A TCP connection to h6's private address, from inside `h` (its own network namespace: its address). */
const reachesFrom = async (h: MachineSpec, port = 5432) => (await fromHost(h, `timeout 3 bash -c 'exec 3<>/dev/tcp/${H6.address}/${port}' 2>/dev/null`, 20_000)).code === 0;
/** The same from the front's own container (its network namespace, its address on the fleet network). */
const reachesFromFront = async (port = 5432) =>
  (await run(['docker', 'run', '--rm', '--network', `container:${front.name}`, 'berth/base:bookworm', 'timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${H6.address}/${port}`], { allowFail: true, timeoutMs: 30_000 })).code === 0;
/** And from this machine (the operator's, on the fleet network's gateway address). */
const reachesFromHere = async (port = 5432) =>
  (await run(['timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${H6.address}/${port}`], { allowFail: true, timeoutMs: 10_000 })).code === 0;

describe('web on h4 + h5, a worker on h5, PostgreSQL on h6 over the private network', { timeout: 1_800_000 }, () => {
  before(async () => {
    F = fleet();
    for (const h of [H4, H5]) F.resetApps([APP, IMP], h);
    await F.resetHost(H6); // bare, as a new database server
    repo = railsAppRepo('topo-app-');
    // The app reads where its database is from Berth's DB_HOST/DB_PORT (as a database.yml would).
    const db = repo.read('app/controllers/db_controller.rb').replace('PG.connect(host: ENV.fetch("DB_HOST"),', 'PG.connect(host: ENV.fetch("DB_HOST"), port: ENV.fetch("DB_PORT", "5432"),');
    writeFileSync(join(repo.dir, 'bin', 'topo-migrate'), MIGRATE);
    writeFileSync(join(repo.dir, 'bin', 'topo-worker'), WORKER);
    chmodSync(join(repo.dir, 'bin', 'topo-migrate'), 0o755);
    chmodSync(join(repo.dir, 'bin', 'topo-worker'), 0o755);
    repo.commit('topology: migration, worker, DB_PORT', { 'app/controllers/db_controller.rb': db });
    p = F.makeProject('berth-e2e-topo-', [H4, H5, H6]);
    writeHosts();
    release('v1');
    // Docker on the bare h6, the edge everywhere; then h6's firewall, which knows what it must admit.
    const setup = await p.berth('setup', [], env);
    assert.equal(setup.code, 0, setup.all);
    const harden = await p.berth('setup', ['h6', '--harden'], env);
    assert.equal(harden.code, 0, harden.all);
    assert.match(harden.all, /h6: topo's db on 10\.77\.0\.16:5432 admits 10\.77\.0\.14, 10\.77\.0\.15 only/);
    front = await startFront({ origins: [`http://${H4.address}`, `http://${H5.address}`], network: F.network, name: 'topo-front' });
  });

  after(async () => {
    await front?.stop();
    if (F) for (const h of [H4, H5]) F.resetApps([APP, IMP], h);
    if (F) await F.resetHost(H6);
    p?.cleanup();
    repo?.cleanup();
  });

  test('plan shows which process runs on which host; each host gets its own compose file', async () => {
    const r = await p.berth('plan', [APP], env);
    assert.equal(r.code, 0, r.all);
    assert.match(r.stdout, /placement +h4: web\n +h5: web, worker jobs\n +h6: accessory db\n/);
    const h6 = YAML.parse(readFileSync(join(p.root, 'compose', APP, 'hosts', 'h6', 'compose.yml'), 'utf8')) as { services: Record<string, { ports?: string[] }> };
    assert.deepEqual(Object.keys(h6.services), ['db', 'db-backup']);
    assert.deepEqual(h6.services.db!.ports, [`${H6.address}:5432:5432`]);
  });

  test('the first deploy: h6 first, then h4 and h5; the migration ran once, on a web host, against h6', async () => {
    const r = await deploy();
    assert.equal(r.code, 0, r.all);
    const out = JSON.parse(r.stdout) as { host: string; result: string }[];
    assert.deepEqual(out.map((o) => [o.host, o.result]), [['h6', 'deployed'], ['h4', 'deployed'], ['h5', 'deployed']]);
    assert.equal((r.all.match(/h[45]: release command already ran on h[45] in this deploy/g) ?? []).length, 1, r.all);
    // What runs where: only its part on each host; a route only where web runs.
    assert.deepEqual(services(H4), ['web-blue']);
    assert.deepEqual(services(H5), ['web-blue', 'worker-jobs']);
    assert.deepEqual(services(H6), ['db', 'db-backup']);
    assert.equal(onHostShell(H6, `test -e /var/lib/berth/edge/dynamic/${APP}.yml && echo routed || echo none`), 'none');
    assert.equal(onHostShell(H5, `test -e /var/lib/berth/edge/dynamic/${APP}.yml && echo routed || echo none`), 'routed');
    // One migration row in h6's database, written from h4's or h5's private address.
    assert.equal(psql('select count(*) from migrations'), '1');
    assert.match(psql('select release || \' \' || host(client) from migrations'), new RegExp(`^v1 (${H4.address}|${H5.address})$`));
  });

  test('the app reaches PostgreSQL on h6 at the private address Berth provides, from both web hosts', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await waitFor('/db through the front', async () => {
        const x = await viaFront('/db').catch(() => undefined);
        return x?.status === 200 ? x : undefined;
      }, { timeoutMs: 60_000, intervalMs: 1000 });
      const body = JSON.parse(res.body) as { db_host: string; database: string; server_version: string };
      assert.equal(body.db_host, H6.address);
      assert.equal(body.database, 'topo');
      assert.match(body.server_version, /^16\./);
      seen.add(String(res.headers['x-front-origin']));
    }
    assert.equal(seen.size, 2, `both web hosts answered: ${[...seen].join(', ')}`);
  });

  test('5432 on h6 answers h4 and h5; the front, and this machine, are refused', async () => {
    assert.ok(await reachesFrom(H4), 'h4');
    assert.ok(await reachesFrom(H5), 'h5');
    assert.equal(await reachesFromFront(), false, "the front's container");
    assert.equal(await reachesFromHere(), false, 'this machine');
    assert.ok(await reachesFromHere(22), 'this machine does reach h6 (its SSH port): the refusal is the firewall');
  });

  test('setup --harden --check covers the openings; a lost rule is drift, and h5 is then refused until --harden repairs it', async () => {
    const ok = await p.berth('setup', ['h6', '--harden', '--check'], env);
    assert.equal(ok.code, 0, ok.all);
    assert.match(ok.stdout, /h6: ok ufw: only 22\/tcp 80\/tcp 443\/tcp from 10\.77\.0\.14 to 10\.77\.0\.16 port 5432 proto tcp from 10\.77\.0\.15 to 10\.77\.0\.16 port 5432 proto tcp/);
    const rule = `-s ${H5.address}/32 -i eth0 -p tcp -m conntrack --ctorigdst ${H6.address} --ctorigdstport 5432 -j RETURN`;
    assert.equal((await F.onHost(H6, `iptables -D DOCKER-USER ${rule} && echo removed`, { allowFail: true })).stdout.trim(), 'removed');
    assert.equal(await reachesFrom(H5), false, 'without its rule h5 is refused: the rule is what admits it');
    const drift = await p.berth('setup', ['h6', '--harden', '--check'], env);
    assert.equal(drift.code, 3, drift.all); // drift: exit 3 (src/cli exit codes)
    assert.match(drift.stdout, new RegExp(`h6: drift DOCKER-USER: live chain lacks: -A DOCKER-USER ${rule.replace(/[./]/g, '\\$&')}`));
    const fix = await p.berth('setup', ['h6', '--harden'], env);
    assert.equal(fix.code, 0, fix.all);
    assert.ok(await reachesFrom(H5), 'repaired');
    assert.equal(await reachesFromFront(), false);
  });

  test('a rolling deploy with a migration under 50 req/s through the front: no failed request; the migration ran once; the worker on h5 was replaced', async () => {
    const workerBefore = serviceContainer(H5, APP, 'worker-jobs');
    const dbBefore = serviceContainer(H6, APP, 'db');
    assert.ok(workerBefore && dbBefore);
    release('v2');
    const load = startLoad({
      url: front.httpUrl, ratePerSec: 50, maxRequests: 50 * 300, maxDurationMs: 300_000, timeoutMs: 10_000,
      mix: [{ kind: 'get', weight: 1, path: '/up', headers: { host: DOMAIN } }],
    });
    await new Promise((res) => setTimeout(res, 2000));
    const r = await deploy();
    const deployedAt = Date.now();
    await new Promise((res) => setTimeout(res, 3000));
    load.stop();
    const res = await load.done;
    assert.equal(r.code, 0, r.all);
    // When something fails: each host's switch and phases, relative to the load's start.
    const outcomes = JSON.parse(r.stdout) as { host: string; switchedAt?: number; timings: Record<string, number> }[];
    const t0 = res.samples[0]?.startedAt ?? 0;
    const when = outcomes.map((o) => `${o.host} switched ${o.switchedAt ? `+${((o.switchedAt - t0) / 1000).toFixed(1)}s` : '-'} ${JSON.stringify(o.timings)}`).join('; ');
    // A new release everywhere (h6 records it), but the database container is the one that ran before.
    assert.deepEqual((JSON.parse(r.stdout) as { host: string; result: string }[]).map((o) => [o.host, o.result]), [['h6', 'deployed'], ['h4', 'deployed'], ['h5', 'deployed']]);
    assert.equal(serviceContainer(H6, APP, 'db'), dbBefore, 'the database was not restarted');
    assert.equal(res.failures.length, 0, `failed requests (offset s): ${res.failures.slice(0, 10).map((f) => `${(f.offsetMs / 1000).toFixed(1)} ${f.error ?? f.status}`).join(', ')}; statuses ${JSON.stringify(res.statusCounts)}; ${when}`);
    assert.ok(res.samples.length > 200, `load ran (${res.samples.length} requests)`);
    assert.ok((res.releaseCounts.v1 ?? 0) > 0 && (res.releaseCounts.v2 ?? 0) > 0, JSON.stringify(res.releaseCounts));
    assert.ok(res.samples.filter((s) => s.startedAt > deployedAt + 1000).every((s) => s.release === 'v2'), 'after both hosts switched every answer is v2');
    const p95 = [...res.samples].map((s) => s.latencyMs).sort((a, b) => a - b)[Math.floor(res.samples.length * 0.95)];
    console.log(`rolling deploy under load: ${res.samples.length} requests, 0 failed, p95 ${p95?.toFixed(0)} ms; ${when}`);
    // Once more, against h6: two rows now, the second v2.
    assert.equal(psql('select count(*) from migrations'), '2');
    assert.equal(psql('select release from migrations order by id desc limit 1'), 'v2');
    // The worker on h5 runs v2 (a new container, writing v2 beats into h6's database); none anywhere else.
    const workerAfter = serviceContainer(H5, APP, 'worker-jobs');
    assert.notEqual(workerAfter, workerBefore);
    await waitFor('v2 heartbeats', async () => (Number(psql("select count(*) from beats where release = 'v2'")) > 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 1000 });
    assert.equal(serviceContainer(H4, APP, 'worker-jobs'), '');
  });

  test('rollback brings every process back: web on h4 and h5, the worker on h5; h6 keeps its database; no migration runs', async () => {
    const r = await p.berth('rollback', [APP], env);
    assert.equal(r.code, 0, r.all);
    assert.match(r.all, /h6: runs only topo's accessories, which a rollback never downgrades: left as it is/);
    for (let i = 0; i < 4; i++) assert.equal((await viaFront('/up')).headers['x-release'], 'v1');
    const workerRelease = onDocker(H5, 'inspect', '--format', '{{index .Config.Labels "berth.release"}}', serviceContainer(H5, APP, 'worker-jobs'));
    assert.equal(workerRelease, tags.v1, 'the worker runs v1 again');
    const since = psql('select coalesce(max(id), 0) from beats');
    await waitFor('v1 heartbeats again', async () => (Number(psql(`select count(*) from beats where release = 'v1' and id > ${since}`)) > 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 1000 });
    assert.equal(psql('select count(*) from migrations'), '2');
    const st = await p.berth('status', [APP, '--json'], env);
    const rows = JSON.parse(st.stdout) as { host: string; release: string; health: string }[];
    assert.deepEqual(rows.map((x) => [x.host, x.health]), [['h4', 'healthy'], ['h5', 'healthy'], ['h6', 'running']], st.all);
    assert.ok(rows.filter((x) => x.host !== 'h6').every((x) => x.release.startsWith(`${tags.v1}-`)), JSON.stringify(rows));
  });

  test('the pg_dump loop runs on h6 (not on the web hosts) and backup:status shows it', async () => {
    const dir = `/var/lib/berth/backups/${APP}/db`;
    await waitFor('a dump on h6', async () => (onHostShell(H6, `ls ${dir} 2>/dev/null | grep -c '^db-.*\\.sql\\.gz$' || true`) !== '0' ? true : undefined), { timeoutMs: 30_000, intervalMs: 1000 });
    for (const h of [H4, H5]) assert.equal(onHostShell(h, `ls ${dir} 2>/dev/null | wc -l`), '0', `no dumps on ${h.name}`);
    const st = await p.berth('backup-status', [APP, '--json'], env);
    assert.equal(st.code, 0, st.all);
    const dumps = (JSON.parse(st.stdout) as { dumps: { host: string; accessory: string; ok: boolean }[] }).dumps;
    assert.deepEqual(dumps.map((d) => [d.host, d.accessory, d.ok]), [['h6', 'db', true]]);
  });

  test('an imported Kamal config of that shape deploys with only its secrets exported; h6 first admits its new port', async () => {
    // The Kamal project is the app's own repository (config/deploy.yml at its root's config/).
    const kamal = {
      service: IMP,
      image: 'topo/imp',
      servers: { web: [H4.sshHost, H5.sshHost], jobs: { hosts: [H5.sshHost], cmd: 'bin/topo-worker' } },
      proxy: { ssl: false, host: IMP_DOMAIN, app_port: 80, healthcheck: { path: '/up' } },
      registry: { server: REGISTRY.address, username: REGISTRY.username, password: ['KAMAL_REGISTRY_PASSWORD'] },
      env: { clear: { POSTGRES_DB: IMP, DB_HOST: `${IMP}-db` }, secret: ['POSTGRES_PASSWORD'] },
      ssh: { user: 'root' },
      builder: { arch: 'amd64', args: { RELEASE: 'imp1' } },
      volumes: ['imp_storage:/rails/storage'],
      accessories: {
        db: {
          image: 'postgres:16', host: H6.sshHost, port: `${H6.address}:5433:5432`,
          env: { clear: { POSTGRES_DB: IMP }, secret: ['POSTGRES_PASSWORD'] },
          directories: ['data:/var/lib/postgresql/data'],
        },
      },
    };
    repo.commit('kamal config', { 'config/deploy.yml': YAML.stringify(kamal) });
    const imp = await p.berth('import', ['kamal', join(repo.dir, 'config', 'deploy.yml')], env);
    assert.equal(imp.code, 0, imp.all);
    const app = YAML.parse(readFileSync(join(p.root, 'apps', IMP, 'app.yml'), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(app.hosts, ['h4', 'h5'], 'the servers already in hosts.json are reused');
    assert.deepEqual(app.workers, { jobs: { command: 'bin/topo-worker', hosts: ['h5'] } });
    assert.equal(app.accessories.db.host, 'h6');
    assert.equal(app.env.DB_HOST, undefined, 'Berth sets DB_HOST itself');
    assert.deepEqual(app.per_host_volumes, ['imp_storage']);
    // h6's firewall does not admit the new port yet: the deploy says so and switches nothing.
    const first = await deploy(IMP);
    assert.notEqual(first.code, 0);
    assert.match(first.all, /cannot reach db on h6 \(10\.77\.0\.16:5433\).*rerun "npm run setup -- h6 --harden"/s);
    assert.equal((await viaFront('/up', IMP_DOMAIN)).status, 404, 'nothing routed');
    const harden = await p.berth('setup', ['h6', '--harden'], env);
    assert.equal(harden.code, 0, harden.all);
    const r = await deploy(IMP);
    assert.equal(r.code, 0, r.all);
    const res = await waitFor('/db of the imported app', async () => {
      const x = await viaFront('/db', IMP_DOMAIN).catch(() => undefined);
      return x?.status === 200 ? x : undefined;
    }, { timeoutMs: 60_000, intervalMs: 1000 });
    const body = JSON.parse(res.body) as { db_host: string; database: string };
    assert.deepEqual([body.db_host, body.database], [H6.address, IMP]);
    assert.deepEqual(services(H4, IMP), ['web-blue']);
    assert.deepEqual(services(H5, IMP), ['web-blue', 'worker-jobs']);
    assert.deepEqual(services(H6, IMP), ['db']);
    assert.equal(await reachesFromFront(5433), false);
    assert.ok(await reachesFrom(H4, 5433));
  });
});
