// Week-two repairs end to end (issue 24): a stopped or killed live colour is named by `status`
// with the command that repairs it, and `start`, `restart` and any deploy (a no-op included)
// bring it back; a rollback leaves exactly the target release's services (a worker only the
// newer release had is removed); a deploy whose release command outlives the lock's takeover
// limit keeps its lock through the heartbeat, and a second deploy meanwhile is refused.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { httpRequest, waitFor } from '../../src/sandbox/http.ts';
import { H1, makeProject, resetApps, type TestProject } from './support/project.ts';

const RUN = randomBytes(3).toString('hex');
const APP = `rep${RUN}`;
const PROJECT = `berth-${APP}`;
const APP_DIR = `/var/lib/berth/apps/${APP}`;
let p: TestProject;

const docker = (...args: string[]) => execFileSync('docker', ['--context', H1.context, ...args], { encoding: 'utf8' }).trim();
const onHost = (script: string) => execFileSync('ssh', ['-p', String(H1.sshPort), `${H1.sshUser}@${H1.sshHost}`, script], { encoding: 'utf8' }).trim();
const service = (svc: string, all = false) =>
  docker('ps', ...(all ? ['-a'] : []), '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', `label=com.docker.compose.service=${svc}`);
const current = () => JSON.parse(onHost(`cat ${APP_DIR}/current.json`)) as { release: string; colour: string };
const get = () => httpRequest(`http://${APP}.berth.test/`, { timeoutMs: 3000 });
const serving = () => waitFor('the app answers 200 through the edge', async () => ((await get().catch(() => undefined))?.status === 200 ? true : undefined), { timeoutMs: 30_000, intervalMs: 300 });
const status = async () => {
  const r = await p.berth('status', [APP, '--json']);
  return { code: r.code, row: (JSON.parse(r.stdout) as { health: string; problems: string[] }[])[0]!, all: r.all };
};
type Outcome = { result: string; release: string; colour: string };
const outcome = (stdout: string) => (JSON.parse(stdout) as Outcome[])[0]!;

const config = (over: Record<string, unknown> = {}) => ({
  image: 'berth/testapp',
  hosts: ['h1'],
  domains: [`${APP}.berth.test`],
  tls: { mode: 'none' },
  port: 80,
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 5, start_period: '1s' },
  volumes: { data: '/data' },
  release_command: 'testapp migrate',
  workers: { jobs: { command: 'testapp' } },
  deploy: { retire_seconds: 2, stop_timeout_seconds: 3, health_timeout_seconds: 30 },
  ...over,
});

before(async () => {
  resetApps([APP]);
  p = makeProject('berth-e2e-rep-');
  p.writeApp(APP, config());
  const setup = await p.berth('setup', ['h1']);
  assert.equal(setup.code, 0, setup.all);
  const r = await p.berth('deploy', [APP, '--release', 'v1']);
  assert.equal(r.code, 0, r.all);
  await serving();
});

after(() => {
  resetApps([APP]);
  p?.cleanup();
});

test('a stopped live colour: status is red and names the command; start brings it back behind the health gate', async () => {
  const web = `web-${current().colour}`;
  docker('stop', service(web));
  const s = await status();
  assert.equal(s.code, 3, s.all);
  assert.equal(s.row.health, 'exited');
  assert.deepEqual(s.row.problems, [`${web} is stopped: run npm run start -- ${APP} (or any deploy)`]);
  const r = await p.berth('start', [APP]);
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, new RegExp(`h1: ${APP} v1-\\S+ \\(\\w+\\): started ${web}`));
  assert.equal((await get()).status, 200, 'serving as soon as start returns (it waited for health)');
  assert.equal((await status()).code, 0);
  const again = await p.berth('start', [APP]);
  assert.match(again.stdout, /already running/);
});

test('docker kill of the live colour and a worker: a no-op deploy starts them again in place', async () => {
  const web = `web-${current().colour}`;
  const ids = { web: service(web), worker: service('worker-jobs') };
  docker('kill', ids.web, ids.worker);
  assert.equal(docker('inspect', '-f', '{{.State.Running}}', ids.web), 'false', 'Docker leaves a killed container down');
  const r = await p.berth('deploy', [APP, '--release', 'v1', '--json']);
  assert.equal(r.code, 0, r.all);
  assert.equal(outcome(r.stdout).result, 'noop');
  assert.match(r.stderr, new RegExp(`started ${web}, worker-jobs of the live release`));
  assert.equal(service(web), ids.web, 'the same container, started again');
  assert.equal(service('worker-jobs'), ids.worker);
  await serving();
});

test('restart restarts the live colour and workers in place, then serves', async () => {
  const web = `web-${current().colour}`;
  const started = docker('inspect', '-f', '{{.State.StartedAt}}', service(web));
  const r = await p.berth('restart', [APP]);
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, new RegExp(`restarted ${web}, worker-jobs`));
  assert.notEqual(docker('inspect', '-f', '{{.State.StartedAt}}', service(web)), started);
  await serving();
});

test('rollback brings back exactly the services of the target release: a worker only the newer one had is removed', async () => {
  p.writeApp(APP, config({ workers: { jobs: { command: 'testapp' }, mail: { command: 'testapp' } } }));
  try {
    const d = await p.berth('deploy', [APP, '--release', 'v2']);
    assert.equal(d.code, 0, d.all);
    assert.ok(service('worker-mail'), 'v2 runs its new worker');
    const r = await p.berth('rollback', [APP]);
    assert.equal(r.code, 0, r.all);
    assert.match(r.all, /removed worker-mail \(not in release v1-/);
    assert.equal(service('worker-mail', true), '', 'no worker-mail container left, running or stopped');
    await waitFor('worker-jobs back on v1', async () => (docker('inspect', '-f', '{{.Config.Image}}', service('worker-jobs')) === 'berth/testapp:v1' ? true : undefined), { timeoutMs: 20_000, intervalMs: 500 });
    assert.ok(current().release.startsWith('v1-'));
  } finally {
    p.writeApp(APP, config());
  }
  // And forward again: the deploy of v2 without worker-mail leaves none behind either.
  const d = await p.berth('deploy', [APP, '--release', 'v2']);
  assert.equal(d.code, 0, d.all);
  assert.equal(service('worker-mail', true), '');
  await serving();
});

test('a release command longer than the takeover limit (35 s): the heartbeat keeps the lock, a second deploy is refused naming it', async () => {
  p.writeApp(APP, config({ release_command: 'sh -c "sleep 42 && testapp migrate"' }));
  try {
    const long = p.berth('deploy', [APP, '--release', 'v1']);
    const since = await waitFor('the long deploy holds the lock', async () => {
      const h = onHost(`cat ${APP_DIR}/lock/holder.json 2>/dev/null || true`);
      return h ? (JSON.parse(h) as { since: string }).since : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    // Past the takeover limit, measured from when the lock was taken.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(since) + 38_000 - Date.now())));
    const age = Number(onHost(`echo $(( $(date +%s) - $(stat -c %Y ${APP_DIR}/lock/holder.json) ))`));
    assert.ok(age <= 12, `the heartbeat touched the lock ${age}s ago`);
    const second = await p.berth('deploy', [APP, '--release', 'v2']);
    assert.notEqual(second.code, 0, second.all);
    assert.match(second.stderr, /LockError/);
    assert.match(second.stderr, new RegExp(`deploy ${APP} v1-`), 'it names the deploy holding the lock');
    assert.match(second.stderr, /heartbeat is \d+s old/);
    const first = await long;
    assert.equal(first.code, 0, first.all);
    assert.doesNotMatch(first.all, /took over/);
    assert.ok(current().release.startsWith('v1-'), 'the long deploy went live');
    console.log(`# lock held ${Math.round((Date.now() - Date.parse(since)) / 1000)} s by a deploy; heartbeat age ${age} s when the second deploy was refused`);
  } finally {
    p.writeApp(APP, config());
  }
});

test('an image without /bin/sh: the deploy says so at its release command or its start; nothing starts', async () => {
  const name = `repn${RUN}`;
  const image = `${name}/app`;
  // A scratch image: one empty layer, a command, no shell.
  onHost(`tar cf - -T /dev/null | docker import -c 'CMD ["/app"]' - ${image}:v1 >/dev/null`);
  const cfg = { image, hosts: ['h1'], port: 80, healthcheck: { path: '/up' }, deploy: { health_timeout_seconds: 10 } };
  try {
    p.writeApp(name, { ...cfg, release_command: '/app migrate' });
    const withCommand = await p.berth('deploy', [name, '--release', 'v1']);
    assert.notEqual(withCommand.code, 0, withCommand.all);
    assert.match(withCommand.stderr, new RegExp(`release command.*the image ${image}:v1 has no /bin/sh: .*COPY --from=busybox`));
    p.writeApp(name, cfg);
    const start = await p.berth('deploy', [name, '--release', 'v1']);
    assert.notEqual(start.code, 0, start.all);
    assert.match(start.stderr, new RegExp(`the image ${image}:v1 has no /bin/sh: .*routing unchanged, the old release keeps serving`));
    assert.equal(docker('ps', '-q', '--filter', `label=com.docker.compose.project=berth-${name}`), '', 'nothing runs');
  } finally {
    resetApps([name]);
    p.removeApp(name);
    onHost(`docker image rm -f ${image}:v1 >/dev/null 2>&1 || true`);
  }
});
