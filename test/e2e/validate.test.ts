// Bad input never changes a server: a hostile --release or config value is refused with one clear
// line (naming the flag, or the file and key) before anything is written, locally or on the host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { H1, makeProject, resetApps, type TestProject } from './support/project.ts';

const RUN = Date.now().toString(36).slice(-5);
const APP = `vl${RUN}`; // the validate helper's app, unique per run
let p: TestProject;

/** Everything Berth could have left for APP on the host, listed over SSH (empty when untouched). */
const hostTraces = () =>
  execFileSync('ssh', ['-p', String(H1.sshPort), `${H1.sshUser}@${H1.sshHost}`,
    `ls -d /var/lib/berth/apps/${APP} /etc/berth/${APP} /var/lib/berth/edge/dynamic/${APP}.yml /tmp/berth-pwned-${RUN} 2>/dev/null; ` +
    `docker ps -aq --filter label=com.docker.compose.project=berth-${APP}; true`], { encoding: 'utf8' }).trim();

const config = (over: Record<string, unknown> = {}) => ({
  image: 'berth/testapp',
  hosts: ['h1'],
  domains: [`${APP}.berth.test`],
  tls: { mode: 'none' },
  port: 80,
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
  ...over,
});

before(() => {
  resetApps([APP]);
  p = makeProject('berth-e2e-validate-');
  p.writeApp(APP, config());
});

after(() => {
  resetApps([APP]);
  p?.cleanup();
});

test('a --release that is not one safe path segment: exit 2, one line naming the flag, nothing written anywhere', async () => {
  for (const release of [`v1;touch /tmp/berth-pwned-${RUN}`, '../../../etc/berth-x', 'v 1', 'x'.repeat(129)]) {
    const r = await p.berth('deploy', [APP, '--release', release]);
    assert.equal(r.code, 2, r.all);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^ERROR \(UsageError\): --release ".*": expected a Docker image tag/);
    assert.doesNotMatch(r.all, /^\s+at /m);
  }
  const rb = await p.berth('rollback', [APP, '--to', '../x']);
  assert.equal(rb.code, 2, rb.all);
  assert.equal(hostTraces(), '', 'nothing on the host');
  assert.equal(existsSync(join(p.root, 'compose')), false, 'nothing rendered locally');
});

test('a hostile config value: the file and key named, nothing on the host', async () => {
  p.writeApp(APP, config({ healthcheck: { path: '/up; exit 0' }, volumes: { data: '/data:rw' } }));
  const r = await p.berth('deploy', [APP, '--release', 'v1']);
  assert.equal(r.code, 1, r.all);
  assert.match(r.stderr, new RegExp(`apps/${APP}/app\\.yml: healthcheck\\.path: expected a URL path`));
  assert.match(r.stderr, new RegExp(`apps/${APP}/app\\.yml: volumes\\.data: expected an absolute container path`));
  assert.doesNotMatch(r.all, /^\s+at /m);
  assert.equal(hostTraces(), '', 'nothing on the host');
  assert.equal(existsSync(join(p.root, 'compose')), false, 'nothing rendered locally');
});
