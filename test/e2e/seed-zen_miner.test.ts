// Seed 003 (zen_miner), end to end with only the commands an operator types: `plan` as the config
// check (`kamal config`), a dry run that touches nothing (`kamal deploy --dry-run`), a rolling deploy
// on the primary host under traffic (the example keeps the SQLite volume on the primary only; rule
// stateOnOneHost refuses it on two hosts), memory/CPU limits and env, hooks in order, aliases.
// The config is the committed apps/zen_miner/app.yml; the sandbox changes only the host (h1 for
// web1), the domain (*.berth.test), Docker Hub → the sandbox registry (token from the environment),
// the build context (the Rails stand-in as a committed repository) and the hooks' commands where
// they need what this machine lacks (each said below). Cloudflare's part (TLS at the edge, plain
// HTTP to the origin, X-Forwarded-Proto) is played by the test's plain-HTTP requests here.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { REGISTRY } from '../../src/sandbox/config.ts';
import { httpRequest, waitFor } from '../../src/sandbox/http.ts';
import { REPO_ROOT } from '../../src/sandbox/paths.ts';
import { railsAppRepo, type AppRepo } from './support/rails-repo.ts';
import { H1, makeProject, resetApps, type TestProject } from './support/project.ts';
import { appFootprint, exampleApp, onDocker, seconds, serviceContainer, toSandboxRegistry, type Config } from './support/seeds.ts';

const APP = 'seed-zen_miner';
const DOMAIN = 'seed-zen-miner.berth.test';
const env = { KAMAL_REGISTRY_PASSWORD: REGISTRY.password };

let p: TestProject;
let repo: AppRepo;

function sandboxConfig(): Config {
  const example = exampleApp('zen_miner');
  const c = toSandboxRegistry(example, `zenminer/${APP}`);
  const log = (name: string) => `echo "${name} $BERTH_RELEASE" >> hooks.log`;
  return {
    ...c,
    hosts: [H1.name], // web1, the primary
    domains: [DOMAIN],
    build: { ...c.build, context: relative(join(p.root, 'apps', APP), repo.dir) }, // the app repository, beside the project
    hooks: {
      // The seed's `bin/rails test` needs Ruby on this machine (the sandbox has none): logged only.
      pre_build: log('pre_build'),
      // The example's own backup through the `backup` alias, from Berth's checkout (this temp
      // project has no package.json), for this app's name.
      pre_deploy: `${log('pre_deploy')}; ${example.hooks.pre_deploy.replace('cd "$BERTH_ROOT"', `cd '${REPO_ROOT}'`).replace(' zen_miner ', ` ${APP} `)}`,
      post_deploy: `${log('post_deploy')}; ${example.hooks.post_deploy}`,
    },
  };
}

const get = (path: string) => httpRequest(`http://${DOMAIN}${path}`, { timeoutMs: 5000 });

before(async () => {
  resetApps([APP]);
  repo = railsAppRepo('seed-zen-miner-');
  p = makeProject('seed-zen-miner-');
  p.writeApp(APP, sandboxConfig());
  const setup = await p.berth('setup', [H1.name], env);
  assert.equal(setup.code, 0, setup.all);
});

after(() => {
  resetApps([APP]);
  p?.cleanup();
  repo?.cleanup();
});

test('plan is the config check: accepts the example, and names file and key of a mistake', async () => {
  const ok = await p.berth('plan', [APP], env);
  assert.equal(ok.code, 0, ok.all);
  assert.match(ok.all, new RegExp(APP));
  const good = readFileSync(join(p.root, 'apps', APP, 'app.yml'), 'utf8');
  p.writeApp(APP, { ...sandboxConfig(), resources: { memory: '512 MB', cpus: 1 } });
  const bad = await p.berth('plan', [APP], env);
  assert.notEqual(bad.code, 0);
  assert.match(bad.all, /apps\/seed-zen_miner\/app\.yml/);
  assert.match(bad.all, /resources\.memory/);
  assert.doesNotMatch(bad.all, /\n\s+at /, 'no stack trace');
  p.writeApp(APP, sandboxConfig());
  assert.equal(readFileSync(join(p.root, 'apps', APP, 'app.yml'), 'utf8'), good);
});

test('deploy --dry-run touches nothing on the host', async () => {
  const before = appFootprint(H1, APP);
  const r = await p.berth('deploy', [APP, '--dry-run'], env);
  assert.equal(r.code, 0, r.all);
  assert.equal(appFootprint(H1, APP), before, 'no container, volume, record or route appeared');
  assert.equal(before, '', 'nothing of the app was there to begin with');
});

const hookLines = () => (existsSync(join(repo.dir, 'hooks.log')) ? repo.read('hooks.log').trim().split('\n') : []);

test('first deploy on the primary: limits, env and hooks in order; served as plain HTTP for the front', async () => {
  const hooksBefore = hookLines().length;
  const r = await p.berth('deploy', [APP], env);
  assert.equal(r.code, 0, r.all);
  const release = repo.head();
  const up = await waitFor('origin answers', async () => ((await get('/up').catch(() => undefined))?.status === 200 ? true : undefined), { timeoutMs: 60_000, intervalMs: 1000 });
  assert.ok(up);
  // RAILS_ASSUME_SSL: the app takes the front's TLS as its own.
  const home = JSON.parse((await httpRequest(`http://${DOMAIN}/`, { headers: { accept: 'application/json' }, timeoutMs: 5000 })).body) as { ssl: boolean };
  assert.equal(home.ssl, true);
  const id = serviceContainer(H1, APP, 'web-blue') || serviceContainer(H1, APP, 'web-green');
  const [memory, nanoCpus] = onDocker(H1, 'inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}', id).split(' ');
  assert.equal(Number(memory), 512 * 1024 * 1024, 'memory 512m');
  assert.equal(Number(nanoCpus), 1e9, 'cpus 1');
  const printenv = await p.berth('exec', [APP, 'printenv'], env);
  for (const kv of ['SOLID_QUEUE_IN_PUMA=true', 'RAILS_ASSUME_SSL=true', 'WEB_CONCURRENCY=2', 'RAILS_LOG_LEVEL=info']) assert.match(printenv.stdout, new RegExp(`^${kv}$`, 'm'));
  const hooks = hookLines().slice(hooksBefore).map((l) => l.split(' ')[0]);
  assert.deepEqual(hooks, ['pre_build', 'pre_deploy', 'post_deploy']);
  assert.match(repo.read('hooks.log'), new RegExp(`^pre_build ${release}`, 'm'));
  assert.match(r.all, new RegExp(`Deployment of version ${release}\\S* complete!`), 'the post-deploy notification ran and was shown');
});

test('rolling deploy of a change under traffic: no failed request, old then new, pre-deploy backup taken', async () => {
  const first = (await get('/robots.txt')).body;
  const commit = repo.commit('Change', { 'public/robots.txt': `${first}# zen ${Date.now()}\n` });
  const hooksBefore = hookLines().length;
  const seen: string[] = [];
  let failed = 0;
  let stop = false;
  const load = (async () => {
    for (let i = 0; i < 1500 && !stop; i++) { // at most 1500 requests, ~10/s, while the deploy runs
      const r = await get('/robots.txt').catch(() => undefined);
      if (r?.status !== 200) failed++;
      else if (seen.at(-1) !== r.body) seen.push(r.body);
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  const t0 = Date.now();
  const d = await p.berth('deploy', [APP], env);
  stop = true;
  await load;
  assert.equal(d.code, 0, d.all);
  assert.equal(failed, 0, `failed requests during the deploy (${seconds(Date.now() - t0)})`);
  assert.equal(seen[0], first);
  assert.match(seen.at(-1)!, /# zen \d+/);
  assert.equal(seen.length, 2, 'the answer changed once, from old to new');
  assert.deepEqual(hookLines().slice(hooksBefore).map((l) => l.split(' ')[0]), ['pre_build', 'pre_deploy', 'post_deploy']);
  assert.match(repo.read('hooks.log'), new RegExp(`^post_deploy ${commit}`, 'm'));
  const ls = await p.berth('exec', [APP, 'ls', 'storage'], env);
  assert.match(ls.stdout, /^backup-\d{8}-\d{6}\.sqlite3$/m, 'the pre-deploy hook backed up the database through the alias');
});

test('aliases: backup runs in the live container; an unknown alias lists the seed\'s aliases', async () => {
  const before = ((await p.berth('exec', [APP, 'ls', 'storage'], env)).stdout.match(/^backup-/gm) ?? []).length;
  await new Promise((res) => setTimeout(res, 1100)); // backup names have one-second resolution
  const b = await p.berth('alias', ['backup', APP], env);
  assert.equal(b.code, 0, b.all);
  const afterCount = ((await p.berth('exec', [APP, 'ls', 'storage'], env)).stdout.match(/^backup-/gm) ?? []).length;
  assert.equal(afterCount, before + 1);
  const unknown = await p.berth('alias', ['nope', APP], env);
  assert.notEqual(unknown.code, 0);
  for (const a of ['console', 'shell', 'logs', 'dbc', 'backup']) assert.match(unknown.all, new RegExp(a));
});

test('the database volume stays on one host: the example on web1 and web2 is refused (stateOnOneHost)', async () => {
  const twoHosts = { ...sandboxConfig(), hosts: undefined, roles: ['web'] };
  const hosts = JSON.parse(readFileSync(join(p.root, 'hosts.json'), 'utf8')) as { hosts: Record<string, unknown> };
  const saved = JSON.stringify(hosts, null, 2);
  hosts.hosts.h2 = { ...(hosts.hosts[H1.name] as object), ssh: 'root@192.0.2.2', context: 'berth-seed-unused-h2' };
  writeFileSync(join(p.root, 'hosts.json'), JSON.stringify(hosts, null, 2));
  p.writeApp(APP, twoHosts);
  try {
    const r = await p.berth('plan', [APP], env);
    assert.notEqual(r.code, 0, r.all);
    assert.match(r.all, /volumes\.storage/);
    assert.match(r.all, /app\.yml/);
  } finally {
    writeFileSync(join(p.root, 'hosts.json'), saved);
    p.writeApp(APP, sandboxConfig());
  }
});
