// The two build paths: build here and push to the registry (the host pulls it), and build on the
// host's engine through its SSH context (no registry). Each runs the pre-build hook first.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REGISTRY } from '../../src/sandbox/config.ts';
import { httpsRequest, waitFor } from '../../src/sandbox/http.ts';
import { hostSpec } from '../../src/sandbox/config.ts';
import { makeProject, resetApps, routeDomain, type TestProject, unrouteDomainHost } from './support/project.ts';

// The transfer lane's first machine (test/e2e/lanes.ts): this file runs beside the main lane.
const H = hostSpec('h10');

const APPS = ['bhost', 'blocal'];
let p: TestProject;
const env = { REGISTRY_PASSWORD: REGISTRY.password };

function appWithDockerfile(name: string, release: string, build: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  p.writeApp(name, {
    hosts: [H.name],
    domains: [`${name}.berth.test`],
    port: 80,
    healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
    build,
    hooks: { pre_build: 'printf "%s %s\\n" "$BERTH_APP" "$BERTH_IMAGE" >> prebuild.log' },
    deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 25 },
    ...extra,
  });
  const dir = join(p.root, 'apps', name);
  mkdirSync(dir, { recursive: true });
  // Built from the local test app image (nothing is pulled); the release shows in X-Release.
  writeFileSync(join(dir, 'Dockerfile'), `FROM berth/testapp:v1\nENV RELEASE=${release}\n`);
}

async function served(name: string) {
  return waitFor(`${name} over HTTPS`, async () => {
    const r = await httpsRequest(`https://${name}.berth.test/`).catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  }, { timeoutMs: 60_000, intervalMs: 1000 });
}

before(async () => {
  resetApps(APPS, H);
  for (const a of APPS) await routeDomain(`${a}.berth.test`, H);
  p = makeProject('berth-e2e-', [H]);
  appWithDockerfile('bhost', 'built-on-host', { on: 'host' }, { image: 'berth-e2e/bhost' });
  appWithDockerfile('blocal', 'built-here', { on: 'local' }, {
    image: `${REGISTRY.address}/berth-e2e/blocal`,
    registry: { server: REGISTRY.address, username: REGISTRY.username, password_secret: 'REGISTRY_PASSWORD' },
    secrets: ['REGISTRY_PASSWORD'],
  });
  const setup = await p.berth('setup', [H.name], env);
  assert.equal(setup.code, 0, setup.all);
});

after(async () => {
  resetApps(APPS, H);
  for (const a of APPS) await unrouteDomainHost(`${a}.berth.test`);
  p?.cleanup();
});

test('build on the host engine through the SSH context, then deploy it', async () => {
  const r = await p.berth('deploy', ['bhost', '--release', 'b1', '--verbose'], env);
  assert.equal(r.code, 0, r.all);
  assert.ok(r.all.includes(`docker --context ${H.context} build -t berth-e2e/bhost:b1`), r.all);
  assert.equal((await served('bhost')).headers['x-release'], 'built-on-host');
  // Hooks run in the app's source tree (its build context), as Kamal runs them in the app's repository.
  assert.match(readFileSync(join(p.root, 'apps', 'bhost', 'prebuild.log'), 'utf8'), /^bhost berth-e2e\/bhost:b1$/m);
});

test('build here, push to the registry, the host pulls it', async () => {
  const r = await p.berth('deploy', ['blocal', '--release', 'b1', '--verbose'], env);
  assert.equal(r.code, 0, r.all);
  assert.match(r.all, /docker push --quiet 127\.0\.0\.1:5000\/berth-e2e\/blocal:b1/);
  assert.ok(r.all.includes(`docker --context ${H.context} pull --quiet 127.0.0.1:5000/berth-e2e/blocal:b1`), r.all);
  assert.ok(!r.all.includes(REGISTRY.password), 'the registry password never shows');
  assert.equal((await served('blocal')).headers['x-release'], 'built-here');
});
