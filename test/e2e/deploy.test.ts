// Deploy and rollback end to end on the sandbox host: real Docker over SSH, real Traefik with
// certificates from the sandbox ACME CA, real registry pulls, load during cutover.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REGISTRY } from '../../src/sandbox/config.ts';
import { httpRequest, httpsRequest, waitFor } from '../../src/sandbox/http.ts';
import { startLoad } from '../../src/sandbox/load.ts';
import { H1, makeProject, resetApps, type TestProject } from './support/project.ts';

const CTX = H1.context;
const REPO = `${REGISTRY.address}/berth/hello`;
const DOMAIN = 'hello.berth.test';
const SECRET = 'app-secret-Zq9vX2';
const docker = (...args: string[]) => execFileSync('docker', ['--context', CTX, ...args], { encoding: 'utf8' }).trim();
const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }).trim();

let p: TestProject;
const env = { REGISTRY_PASSWORD: REGISTRY.password, APP_SECRET: SECRET, BERTH_SECRET_SECRET_KEY_BASE: 'rails-secret-kb-Q7' };

function helloConfig(extraEnv: Record<string, string> = {}) {
  return {
    image: REPO,
    registry: { server: REGISTRY.address, username: REGISTRY.username, password_secret: 'REGISTRY_PASSWORD' },
    hosts: ['h1'],
    secrets: ['REGISTRY_PASSWORD', 'APP_SECRET'],
    domains: [DOMAIN],
    www: 'alias',
    port: 80,
    healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
    volumes: { data: '/data' },
    release_command: 'testapp migrate',
    env: { GREETING: 'hello', ...extraEnv },
    resources: { memory: '256m', cpus: 0.5 },
    restart: 'unless-stopped',
    workers: { jobs: { command: 'testapp' } },
    hooks: {
      pre_deploy: 'printf "%s %s %s\\n" "$BERTH_HOOK" "$BERTH_APP" "$BERTH_RELEASE" >> hooks.log',
      post_deploy: 'printf "%s %s %s\\n" "$BERTH_HOOK" "$BERTH_APP" "$BERTH_RELEASE" >> hooks.log',
    },
    deploy: { retire_seconds: 4, stop_timeout_seconds: 10, health_timeout_seconds: 25 },
  };
}

const deploy = (app: string, release: string) => p.berth('deploy', [app, '--release', release, '--json'], env);
const outcome = (stdout: string) => JSON.parse(stdout) as { host: string; result: string; release: string; colour: string; switchedAt?: number }[];
const get = (path = '/', host = DOMAIN) => httpsRequest(`https://${host}${path}`);
const webIds = (project: string) => docker('ps', '--all', '-q', '--filter', `label=com.docker.compose.project=${project}`).split('\n').filter(Boolean).sort();

before(async () => {
  // Push both releases of the test app to the sandbox registry (the host pulls them from there).
  sh(`printf %s '${REGISTRY.password}' | docker login ${REGISTRY.address} -u ${REGISTRY.username} --password-stdin >/dev/null`);
  for (const v of ['v1', 'v2']) {
    sh(`docker tag berth/testapp:${v} ${REPO}:${v} && docker push -q ${REPO}:${v} >/dev/null && docker rmi ${REPO}:${v} >/dev/null`);
  }
  resetApps(['hello', 'second']);
  p = makeProject();
  p.writeApp('hello', helloConfig());
  const setup = await p.berth('setup', ['h1'], env);
  assert.equal(setup.code, 0, setup.all);
});

after(() => {
  resetApps(['hello', 'second']);
  p?.cleanup();
});

test('first deploy pulls from the registry, runs the release command and serves HTTPS from the ACME CA', async () => {
  const r = await deploy('hello', 'v1');
  assert.equal(r.code, 0, r.all);
  assert.equal(outcome(r.stdout)[0]!.result, 'deployed');
  const res = await waitFor('hello over HTTPS', async () => {
    const x = await get().catch(() => undefined);
    return x?.status === 200 ? x : undefined;
  }, { timeoutMs: 60_000, intervalMs: 1000 });
  assert.equal(res.headers['x-release'], 'v1');
  const issuer = JSON.stringify(res.peerCertificate?.issuer);
  assert.match(issuer, /Pebble/i, `certificate issued by the sandbox ACME CA, got ${issuer}`);
  assert.match(res.peerCertificate?.subjectaltname ?? '', /DNS:www\.hello\.berth\.test/);
  const www = await get('/', `www.${DOMAIN}`);
  assert.equal(www.status, 200);
  const plain = await httpRequest(`http://${DOMAIN}/some/path`);
  assert.ok([301, 308].includes(plain.status), `HTTP redirects, got ${plain.status}`);
  assert.equal(plain.headers.location, `https://${DOMAIN}/some/path`);
  const migrations = await get('/migrations');
  assert.match(migrations.body, /\d/, 'the release command (testapp migrate) ran before cutover');
});

test('hooks run around the deploy; the worker, limits and restart policy reach the containers', async () => {
  const release = (await p.berth('status', ['hello', '--json'], env)).stdout;
  const id = (JSON.parse(release) as { release: string }[])[0]!.release;
  // No build context: hooks run in the app folder.
  const hooks = readFileSync(join(p.root, 'apps', 'hello', 'hooks.log'), 'utf8');
  assert.match(hooks, new RegExp(`^pre_deploy hello ${id}$`, 'm'));
  assert.match(hooks, new RegExp(`^post_deploy hello ${id}$`, 'm'));
  const live = docker('ps', '-q', '--filter', 'label=com.docker.compose.project=berth-hello', '--filter', 'label=com.docker.compose.service=web-blue');
  assert.equal(docker('inspect', '--format', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}', live), '268435456 500000000 unless-stopped');
  const worker = docker('ps', '--filter', 'label=com.docker.compose.project=berth-hello', '--filter', 'label=com.docker.compose.service=worker-jobs', '--format', '{{.Image}} {{.State}}');
  assert.equal(worker, `${REPO}:v1 running`);
  // A crash (the process killed from outside) is restarted by the engine and serves again.
  const pid = docker('inspect', '--format', '{{.State.Pid}}', live);
  execFileSync('ssh', [`${H1.sshUser}@${H1.sshHost}`, 'kill', '-9', pid]);
  await waitFor('restart after crash', async () => docker('inspect', '--format', '{{.RestartCount}} {{.State.Health.Status}}', live) === '1 healthy', { timeoutMs: 30_000, intervalMs: 500 });
  assert.equal((await get()).status, 200);
});

test('deploying the same release again changes nothing', async () => {
  const before = webIds('berth-hello');
  const r = await deploy('hello', 'v1');
  assert.equal(r.code, 0, r.all);
  assert.equal(outcome(r.stdout)[0]!.result, 'noop');
  assert.match(r.all, /nothing changed/);
  assert.deepEqual(webIds('berth-hello'), before);
});

async function deployUnderLoad(release: string) {
  return underLoad(() => deploy('hello', release));
}

async function underLoad(action: () => Promise<import('./support/project.ts').BerthRun>) {
  const load = startLoad({
    url: `https://${DOMAIN}`,
    ratePerSec: 50,
    maxRequests: 2500,
    maxDurationMs: 45_000,
    keepAlive: false,
    mix: [
      { kind: 'get', weight: 6, path: '/' },
      { kind: 'post', weight: 3, method: 'POST', path: '/write', body: 'x' },
      { kind: 'slow', weight: 1, path: '/slow?ms=1500' },
    ],
  });
  await new Promise((r) => setTimeout(r, 1500));
  const r = await action();
  await new Promise((r) => setTimeout(r, 2500));
  load.stop();
  const result = await load.done;
  return { r, result };
}

test('v1 → v2 under 50 req/s: zero failed requests, nothing old after the switch is confirmed', async () => {
  const { r, result } = await deployUnderLoad('v2');
  assert.equal(r.code, 0, r.all);
  const o = outcome(r.stdout)[0]!;
  assert.equal(o.result, 'deployed');
  assert.ok(o.switchedAt, 'deploy reports when the switch was confirmed');
  const failed = result.samples.filter((s) => s.status === 0 || s.status >= 500);
  assert.ok(result.samples.length >= 100, `load ran (${result.samples.length} requests)`);
  assert.deepEqual(failed.map((s) => `${s.kind} ${s.status} ${s.error ?? ''}`), [], 'no failed request');
  const lateOld = result.samples.filter((s) => s.startedAt > o.switchedAt! && s.release === 'v1');
  assert.deepEqual(lateOld.map((s) => s.seq), [], 'no request started after the confirmed switch hits v1');
  assert.ok(result.samples.some((s) => s.release === 'v2'));
  assert.equal((await get()).headers['x-release'], 'v2');
});

test('the old colour is kept, then stopped after the retire window', async () => {
  const ps = () => docker('ps', '--all', '--filter', 'label=com.docker.compose.project=berth-hello', '--format', '{{.Label "com.docker.compose.service"}} {{.State}}');
  await waitFor('old colour stopped', async () => /web-blue exited/.test(ps()), { timeoutMs: 30_000, intervalMs: 500 });
  assert.match(ps(), /web-green running/);
});

test('rollback restores the previous release with the same zero-loss switch', async () => {
  const { r, result } = await underLoad(() => p.berth('rollback', ['hello', '--json'], env));
  assert.equal(r.code, 0, r.all);
  assert.equal((await get()).headers['x-release'], 'v1');
  const failed = result.samples.filter((s) => s.status === 0 || s.status >= 500);
  assert.deepEqual(failed.map((s) => `${s.kind} ${s.status} ${s.error ?? ''}`), [], 'no failed request during rollback');
  const done = JSON.parse(r.stdout)[0] as { switchedAt: number };
  assert.deepEqual(result.samples.filter((s) => s.startedAt > done.switchedAt && s.release === 'v2').map((s) => s.seq), []);
  const back = await deploy('hello', 'v2');
  assert.equal(back.code, 0, back.all);
  assert.equal((await get()).headers['x-release'], 'v2');
});

test('an app that keeps accepting after SIGTERM still loses nothing', async () => {
  p.writeApp('hello', helloConfig({ SIGTERM_MODE: 'ignore-keep-accepting', SIGTERM_LINGER_MS: '3000' }));
  const first = await deploy('hello', 'v1');
  assert.equal(first.code, 0, first.all);
  const { r, result } = await deployUnderLoad('v2');
  assert.equal(r.code, 0, r.all);
  const failed = result.samples.filter((s) => s.status === 0 || s.status >= 500);
  assert.deepEqual(failed.map((s) => `${s.kind} ${s.status} ${s.error ?? ''}`), []);
  const o = outcome(r.stdout)[0]!;
  assert.deepEqual(result.samples.filter((s) => s.startedAt > o.switchedAt! && s.release === 'v1').map((s) => s.seq), []);
});

for (const [name, extra, expectLog] of [
  ['crashes at boot', { CRASH_AT_BOOT: '1' }, /crash/i],
  ['answers /up with 500', { UP_STATUS: '500' }, /./],
  ['never listens', { NEVER_LISTEN: '1' }, /./],
] as const) {
  test(`a release that ${name} changes no routing and the old release keeps serving`, async () => {
    const live = (await get()).headers['x-release'];
    p.writeApp('hello', helloConfig(extra));
    const r = await deploy('hello', live === 'v1' ? 'v2' : 'v1');
    assert.notEqual(r.code, 0, 'deploy fails');
    assert.match(r.stderr, /HealthError/);
    assert.match(r.stderr, /last \d+ log lines/);
    assert.match(r.stderr, expectLog);
    assert.equal((await get()).headers['x-release'], live, 'old release still routed');
    assert.throws(() => sh(`ssh ${H1.sshUser}@${H1.sshHost} test -d /var/lib/berth/apps/hello/lock`), 'lock released');
  });
}

test('a failing release command stops before cutover', async () => {
  const live = (await get()).headers['x-release'];
  p.writeApp('hello', helloConfig({ MIGRATE_FAIL: '1' }));
  const r = await deploy('hello', live === 'v1' ? 'v2' : 'v1');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /release command/);
  assert.equal((await get()).headers['x-release'], live);
  p.writeApp('hello', helloConfig());
});

test('a concurrent deploy is refused naming the holder; a dead holder is taken over', async () => {
  const holder = JSON.stringify({ user: 'alice', machine: 'laptop-of-alice', pid: 4242, command: 'deploy hello v9', since: new Date().toISOString() });
  sh(`ssh ${H1.sshUser}@${H1.sshHost} 'mkdir -p /var/lib/berth/apps/hello/lock && cat > /var/lib/berth/apps/hello/lock/holder.json' <<'EOF'\n${holder}\nEOF`);
  const refused = await deploy('hello', 'v1');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /LockError/);
  assert.match(refused.stderr, /alice@laptop-of-alice/);
  // A holder on this machine whose process is gone: the next deploy takes the lock over.
  const dead = JSON.stringify({ user: 'root', machine: sh('hostname'), pid: 999999, command: 'deploy hello v0', since: new Date().toISOString() });
  sh(`ssh ${H1.sshUser}@${H1.sshHost} 'cat > /var/lib/berth/apps/hello/lock/holder.json' <<'EOF'\n${dead}\nEOF`);
  const took = await deploy('hello', 'v1');
  assert.equal(took.code, 0, took.all);
  assert.match(took.all, /took over a lock/);
});

test('a second app deploys beside the first without restarting it and gets its own certificate', async () => {
  const before = webIds('berth-hello');
  p.writeApp('second', { ...helloConfig(), domains: ['second.berth.test'], www: 'none' });
  const r = await deploy('second', 'v2');
  assert.equal(r.code, 0, r.all);
  const res = await waitFor('second over HTTPS', async () => {
    const x = await get('/', 'second.berth.test').catch(() => undefined);
    return x?.status === 200 ? x : undefined;
  }, { timeoutMs: 60_000, intervalMs: 1000 });
  assert.match(res.peerCertificate?.subjectaltname ?? '', /DNS:second\.berth\.test/);
  assert.deepEqual(webIds('berth-hello'), before, 'first app untouched');
});

test('secrets stay out of compose/, output, edge containers; secrets file is 600; Traefik has no Docker socket', async () => {
  const files: string[] = [];
  const walk = (d: string) => readdirSync(d).forEach((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : files.push(join(d, f))));
  walk(join(p.root, 'compose'));
  for (const f of files) assert.ok(!readFileSync(f, 'utf8').includes(SECRET), `${f} holds no secret`);
  const r = await p.berth('deploy', ['hello', '--release', 'v1', '--verbose'], env);
  assert.ok(!r.all.includes(SECRET) && !r.all.includes(REGISTRY.password), 'no secret in Berth output');
  const edge = docker('ps', '-q', '--filter', 'label=com.docker.compose.project=berth-edge').split('\n').filter(Boolean);
  assert.ok(edge.length >= 2);
  const inspect = docker('inspect', ...edge);
  assert.ok(!inspect.includes(SECRET) && !inspect.includes(REGISTRY.password));
  assert.doesNotMatch(docker('inspect', '--format', '{{json .Mounts}}', 'berth-edge-traefik-1'), /docker\.sock/, 'traefik mounts no docker socket');
  assert.match(docker('inspect', '--format', '{{json .Mounts}}', 'berth-edge-socket-proxy-1'), /docker\.sock/, 'the socket proxy does');
  assert.equal(sh(`ssh ${H1.sshUser}@${H1.sshHost} stat -c %a /etc/berth/hello/secrets.env`), '600');
  assert.equal(sh(`ssh ${H1.sshUser}@${H1.sshHost} stat -c %a /etc/berth/hello`), '700');
});
