// Seed 001 §7 (wombatworkouts' post-deploy validation list), end to end with only the commands an
// operator types. The config is the committed apps/wombatworkouts/app.yml; the sandbox changes only
// the host (h1), the domain (*.berth.test), the registry (ghcr.io → the sandbox registry, the token
// from the environment instead of `gh auth token`), Litestream's storage (B2 → the sandbox S3) and
// the build context (the app's repository: the Rails stand-in, committed in a temp dir). Let's
// Encrypt is the sandbox's Pebble (shared/edge.yml of makeProject).
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { REGISTRY, S3 } from '../../src/sandbox/config.ts';
import { httpRequest, httpsRequest, waitFor } from '../../src/sandbox/http.ts';
import { railsAppRepo, type AppRepo } from './support/rails-repo.ts';
import { H1, makeProject, resetApps, type TestProject } from './support/project.ts';
import { exampleApp, onDocker, seconds, serviceContainer, toSandboxRegistry, type Config } from './support/seeds.ts';

const APP = 'seed-wombatworkouts';
const SECOND = 'seed-wombat-second';
const DOMAIN = `${APP}.berth.test`;
const RUN = Date.now().toString(36);
const env = {
  KAMAL_REGISTRY_PASSWORD: REGISTRY.password,
  LITESTREAM_ACCESS_KEY_ID: S3.accessKeyId,
  LITESTREAM_SECRET_ACCESS_KEY: S3.secretAccessKey,
};
// The seed's bounds (seed 000 "Success Criteria"), not speed targets.
const DEPLOY_BOUND_MS = 10 * 60_000;
const ROLLBACK_BOUND_MS = 2 * 60_000;

let p: TestProject;
let repo: AppRepo;
let firstCommit = '';

function sandboxConfig(name: string, domain: string): Config {
  const c = toSandboxRegistry(exampleApp('wombatworkouts'), `example-user/${name}`);
  return {
    ...c,
    hosts: [H1.name],
    domains: [domain],
    build: { ...c.build, context: relative(join(p.root, 'apps', name), repo.dir) }, // the app repository, beside the project
    litestream: {
      ...c.litestream,
      replica: { ...c.litestream.replica, url: `s3://${S3.bucket}/seed-${RUN}`, endpoint: S3.networkEndpoint, region: S3.region, force_path_style: true },
    },
  };
}

interface StatusRow { host: string; app: string; release: string; colour: string; health: string; domains: string[]; certificate: { domain: string; expires?: string; issuer?: string; error?: string }[] }
async function statusRow(app = APP): Promise<StatusRow> {
  const r = await p.berth('status', [app, '--json'], env);
  assert.equal(r.code, 0, r.all);
  return (JSON.parse(r.stdout) as StatusRow[]).find((x) => x.app === app)!;
}

const get = (path: string, domain = DOMAIN) => httpsRequest(`https://${domain}${path}`, { timeoutMs: 5000 });
const served = (domain = DOMAIN) =>
  waitFor(`${domain} over HTTPS`, async () => ((await get('/up', domain).catch(() => undefined))?.status === 200 ? true : undefined), { timeoutMs: 90_000, intervalMs: 1000 });

before(async () => {
  resetApps([APP, SECOND]);
  repo = railsAppRepo();
  p = makeProject('seed-wombatworkouts-');
  p.writeApp(APP, sandboxConfig(APP, DOMAIN));
  const setup = await p.berth('setup', [H1.name], env);
  assert.equal(setup.code, 0, setup.all);
});

after(() => {
  resetApps([APP, SECOND]);
  p?.cleanup();
  repo?.cleanup();
});

test('plan accepts the example as adapted; the first deploy builds the app repository, tags its commit, pushes, the host pulls (under 10 min)', async () => {
  const plan = await p.berth('plan', [APP], env);
  assert.equal(plan.code, 0, plan.all);
  firstCommit = repo.head();
  const t0 = Date.now();
  const r = await p.berth('deploy', [APP, '--verbose'], env);
  const took = Date.now() - t0;
  assert.equal(r.code, 0, r.all);
  const image = `${REGISTRY.address}/example-user/${APP}:${firstCommit}`;
  assert.ok(r.all.includes(`docker build -t ${image} -f `), 'built, tagged with the app repository\'s commit');
  assert.match(r.all, new RegExp(`seed-app-\\w+/Dockerfile`), 'from the app repository\'s Dockerfile');
  assert.ok(r.all.includes(`docker push --quiet ${image}`), 'pushed to the registry');
  assert.ok(r.all.includes(`docker --context ${H1.context} pull --quiet ${image}`), 'the host pulls it');
  assert.ok(!r.all.includes(repo.masterKey), 'RAILS_MASTER_KEY (from `cat config/master.key`) never shows');
  assert.ok(took < DEPLOY_BOUND_MS, `deploy took ${seconds(took)}`);
  console.log(`# first deploy (build + push + pull + migrate + health): ${seconds(took)}`);
  await served();
  assert.match((await statusRow()).release, new RegExp(`^${firstCommit}`));
});

test('7.1 HTTP redirects to HTTPS, and the certificate verifies against the ACME CA', async () => {
  const plain = await httpRequest(`http://${DOMAIN}/`, { timeoutMs: 5000 });
  assert.ok([301, 302, 307, 308].includes(plain.status), `HTTP answers ${plain.status}`);
  assert.equal(plain.headers.location, `https://${DOMAIN}/`);
  // httpsRequest verifies the chain against the sandbox CA's roots (it fails on an unverified one).
  const r = await get('/');
  assert.equal(r.status, 200);
  const cert = (await statusRow()).certificate.find((c) => c.domain === DOMAIN)!;
  assert.ok(cert.expires && Date.parse(cert.expires) > Date.now(), JSON.stringify(cert));
  assert.match(cert.issuer ?? '', /Pebble/i, 'issued by the ACME CA (Let\'s Encrypt stand-in), not Traefik\'s default');
});

test('7.2 /up answers 200', async () => {
  const r = await get('/up');
  assert.equal(r.status, 200);
});

test('7.3 migrations report up for all four databases (exec bin/rails db:migrate:status)', async () => {
  const r = await p.berth('exec', [APP, 'bin/rails', 'db:migrate:status'], env);
  assert.equal(r.code, 0, r.all);
  for (const id of ['20250101000001', '20250101000002', '20250101000003', '20250101000004']) assert.match(r.stdout, new RegExp(`^\\s*up\\s+${id}`, 'm'), r.stdout);
  assert.doesNotMatch(r.stdout, /^\s*down\s/m, r.stdout);
  const ls = await p.berth('exec', [APP, 'ls', 'storage'], env);
  assert.match(ls.stdout, /^production\.sqlite3$/m);
});

test('Solid Queue in Puma: jobs enqueued by requests are performed by a thread of the web process', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await httpsRequest(`https://${DOMAIN}/workouts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `w${i}` }) });
    assert.equal(r.status, 201, r.body);
  }
  const jobs = await waitFor('jobs performed', async () => {
    const j = JSON.parse((await get('/jobs')).body) as { in_puma: boolean; poller: { running: boolean; performed: number }; pending: number; finished: number };
    return j.pending === 0 && j.finished >= 3 ? j : undefined;
  }, { timeoutMs: 20_000, intervalMs: 500 });
  assert.equal(jobs.in_puma, true);
  assert.equal(jobs.poller.running, true);
  assert.ok(jobs.poller.performed >= 3, JSON.stringify(jobs));
});

test('7.5 all four databases replicate: backup:verify restores each, then backup:status is green', async () => {
  const v = await waitFor('backup:verify passes', async () => {
    const r = await p.berth('backup-verify', [APP], env);
    return r.code === 0 ? r : undefined;
  }, { timeoutMs: 60_000, intervalMs: 3000 });
  assert.equal(v.code, 0);
  const s = await p.berth('backup-status', [APP, '--json'], env);
  assert.equal(s.code, 0, s.all);
  const st = JSON.parse(s.stdout) as { ok: boolean; databases: { app: string; db: string; ok: boolean; problems: string[] }[] };
  const dbs = st.databases.filter((d) => d.app === APP);
  assert.deepEqual(dbs.map((d) => d.db.replace(/^.*\//, '')).sort(), ['production.sqlite3', 'production_cable.sqlite3', 'production_cache.sqlite3', 'production_queue.sqlite3']);
  for (const d of dbs) assert.ok(d.ok, `${d.db}: ${d.problems.join('; ')}`);
  assert.equal(st.ok, true);
});

test('7.6 routing is shown by a Berth command: status names domain, live colour, health, certificate', async () => {
  const row = await statusRow();
  assert.deepEqual(row.domains, [DOMAIN]);
  assert.match(row.colour, /^(blue|green)$/);
  assert.equal(row.health, 'healthy');
  const table = await p.berth('status', [], env);
  assert.match(table.stdout, new RegExp(`${H1.name}\\s+${APP}\\s+${firstCommit}`));
});

test('7.7 the container comes back after `kill 1` inside it (exec), and serves again', async () => {
  const colour = (await statusRow()).colour;
  const id = serviceContainer(H1, APP, `web-${colour}`);
  assert.ok(id, 'live container found');
  const started = onDocker(H1, 'inspect', '-f', '{{.State.StartedAt}}', id);
  const restarts = Number(onDocker(H1, 'inspect', '-f', '{{.RestartCount}}', id));
  // The image has no kill binary (Debian minbase, no procps): the shell's builtin, as `kamal app exec`
  // would need too. The exec session ends with the process; its exit code is not the point.
  const k = await p.berth('exec', [APP, 'sh', '-c', 'kill 1'], env);
  assert.doesNotMatch(k.all, /not found|no such file/i, k.all);
  await waitFor('restarted by its restart policy', async () => {
    const now = onDocker(H1, 'inspect', '-f', '{{.RestartCount}} {{.State.StartedAt}} {{.State.Running}}', id).split(' ');
    return Number(now[0]) > restarts && now[1] !== started && now[2] === 'true' ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 500 }); // the seed waits 30 s
  assert.equal(serviceContainer(H1, APP, `web-${colour}`), id, 'the same container, restarted by Docker');
  await served();
});

test('8.3 a trivial change deploys (< 10 min) and rolls back (< 2 min)', async () => {
  const before = (await get('/robots.txt')).body;
  const commit = repo.commit('Trivial change', { 'public/robots.txt': `${before}# trivial change ${RUN}\n` });
  assert.notEqual(commit, firstCommit);
  const t0 = Date.now();
  const d = await p.berth('deploy', [APP], env);
  const deployMs = Date.now() - t0;
  assert.equal(d.code, 0, d.all);
  assert.match((await get('/robots.txt')).body, new RegExp(`trivial change ${RUN}`));
  assert.match((await statusRow()).release, new RegExp(`^${commit}`), 'the release is the new commit');
  assert.ok(deployMs < DEPLOY_BOUND_MS, `deploy took ${seconds(deployMs)}`);

  const t1 = Date.now();
  const r = await p.berth('rollback', [APP], env);
  const rollbackMs = Date.now() - t1;
  assert.equal(r.code, 0, r.all);
  assert.equal((await get('/robots.txt')).body, before, 'the previous release serves again');
  assert.match((await statusRow()).release, new RegExp(`^${firstCommit}`));
  assert.ok(rollbackMs < ROLLBACK_BOUND_MS, `rollback took ${seconds(rollbackMs)}`);
  console.log(`# trivial change: deploy ${seconds(deployMs)} (bound 10 min), rollback ${seconds(rollbackMs)} (bound 2 min)`);
});

test('multi-app: a second app is added by adding a folder; the first keeps serving untouched', async () => {
  const colour = (await statusRow()).colour;
  const id = serviceContainer(H1, APP, `web-${colour}`);
  const started = onDocker(H1, 'inspect', '-f', '{{.State.StartedAt}}', id);
  const domain2 = `${SECOND}.berth.test`;
  p.writeApp(SECOND, sandboxConfig(SECOND, domain2));
  const d = await p.berth('deploy', [SECOND], env);
  assert.equal(d.code, 0, d.all);
  await served(domain2);
  assert.equal((await get('/up')).status, 200);
  assert.equal(onDocker(H1, 'inspect', '-f', '{{.State.StartedAt}}', id), started, 'the first app was not restarted');
  const rows = JSON.parse((await p.berth('status', ['--json'], env)).stdout) as StatusRow[];
  assert.deepEqual(rows.map((r) => r.app).sort(), [SECOND, APP].sort());
  assert.ok(rows.every((r) => r.health === 'healthy'), JSON.stringify(rows));
});
