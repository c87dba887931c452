// The commands Kamal users reach for, against the sandbox host: a destination (-d staging) deployed
// beside production with its own compose project and host state, `details` (Traefik's own view of
// the routes, its version, the certificates, its logs), `lock status|release`, `--hosts` on logs,
// and `remove` (refused without a terminal unless --yes; removes only that app, volumes included).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { httpRequest, httpsRequest, sandboxCaBundle, waitFor } from '../../src/sandbox/http.ts';
import { H1, makeProject, onHost as onMachine, resetApps, type TestProject } from './support/project.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

const PROD = 'kml-shop';
const STAGING = 'kml-shop-staging';
let p: TestProject;
const PROD_CONFIG = {
  image: 'berth/testapp:v1',
  hosts: ['h1'],
  domains: ['kml-shop.berth.test'],
  port: 80,
  env: { GREETING: 'from-app-yml' },
  volumes: { data: '/data' },
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
  deploy: { retire_seconds: 1, stop_timeout_seconds: 5, health_timeout_seconds: 25 },
};
const STAGING_OVERRIDE = { domains: ['kml-shop-staging.berth.test'], tls: { mode: 'none' } };

const onHost = async (script: string) => (await onMachine(H1, script)).stdout;
const projectContainers = async (app: string) => (await onHost(`docker ps -aq --filter label=com.docker.compose.project=berth-${app}`)).trim();
const projectVolumes = async (app: string) => (await onHost(`docker volume ls -q --filter label=com.docker.compose.project=berth-${app}`)).trim();

before(async () => {
  resetApps([PROD, STAGING]);
  p = makeProject('kml-e2e-');
  p.writeApp(PROD, PROD_CONFIG);
  // The destination: same folder, its own domain (plain HTTP), on the same host.
  writeFileSync(join(p.root, 'apps', PROD, 'app.staging.yml'), YAML.stringify(STAGING_OVERRIDE));
  const setup = await p.berth('setup', ['h1']);
  assert.equal(setup.code, 0, setup.all);
});


after(() => {
  resetApps([PROD, STAGING]);
  p?.cleanup();
});

test('-d staging deploys the destination beside production: own compose project, releases and route', async () => {
  const s = await p.berth('deploy', [PROD, '-d', 'staging']);
  assert.equal(s.code, 0, s.all);
  const d = await p.berth('deploy', [PROD]);
  assert.equal(d.code, 0, d.all);
  const staging = await httpRequest('http://kml-shop-staging.berth.test/');
  assert.equal(staging.status, 200);
  await waitFor('production over HTTPS', async () => {
    const r = await httpsRequest('https://kml-shop.berth.test/', { ca: sandboxCaBundle(true) }).catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  }, { timeoutMs: 90_000, intervalMs: 1000 });
  assert.ok(await projectContainers(PROD), 'production containers');
  assert.ok(await projectContainers(STAGING), 'staging containers');
  assert.notEqual(await projectVolumes(PROD), await projectVolumes(STAGING));
  const dirs = await onHost(`ls -d /var/lib/berth/apps/${PROD}/releases/* /var/lib/berth/apps/${STAGING}/releases/*`);
  assert.match(dirs, new RegExp(`/apps/${PROD}/releases/`));
  assert.match(dirs, new RegExp(`/apps/${STAGING}/releases/`));
});

test('rollback -d staging restores the release\'s config, not only its image', async () => {
  const greeting = async () => JSON.parse((await httpRequest('http://kml-shop-staging.berth.test/env?keys=GREETING')).body).GREETING;
  assert.equal(await greeting(), 'from-app-yml');
  // Same image, new config: a new release.
  writeFileSync(join(p.root, 'apps', PROD, 'app.staging.yml'), YAML.stringify({ ...STAGING_OVERRIDE, env: { GREETING: 'changed' } }));
  const d = await p.berth('deploy', [PROD, '-d', 'staging']);
  assert.equal(d.code, 0, d.all);
  assert.equal(await greeting(), 'changed');
  const r = await p.berth('rollback', [PROD, '-d', 'staging', '--hosts', 'h1']);
  assert.equal(r.code, 0, r.all);
  assert.equal(await greeting(), 'from-app-yml');
  writeFileSync(join(p.root, 'apps', PROD, 'app.staging.yml'), YAML.stringify(STAGING_OVERRIDE));
});

test("details shows Traefik's routes per app, its version, the served certificate; --logs the edge's log", async () => {
  const r = await p.berth('details', ['h1']);
  assert.equal(r.code, 0, r.all);
  assert.match(r.stdout, /^h1: Traefik 3\.6\.15$/m); // the pinned edge image, as its API reports it
  assert.match(r.stdout, new RegExp(`^  ${PROD}  ${PROD}-https  enabled  Host\\(\`kml-shop\\.berth\\.test\`\\).*→ http://${PROD}-web-(blue|green):80`, 'm'));
  assert.match(r.stdout, new RegExp(`^  ${STAGING}  ${STAGING}-http  enabled  Host\\(\`kml-shop-staging\\.berth\\.test\`\\)`, 'm'));
  assert.match(r.stdout, /certificate kml-shop\.berth\.test: issuer .*Pebble.*, expires 20\d\d-/i);
  const json = JSON.parse((await p.berth('details', ['h1', '--json', '--no-certs'])).stdout);
  assert.ok(json[0].routes.some((x: { app: string; servers: string[] }) => x.app === PROD && x.servers.length === 1));
  const logs = await p.berth('details', ['--logs', 'h1', '--tail', '5']);
  assert.equal(logs.code, 0, logs.all);
  assert.match(logs.stdout, /traefik/i);
});

test('lock status names a leftover lock and deploy refuses; lock release frees it', async () => {
  const holder = JSON.stringify({ user: 'ci', machine: 'elsewhere', pid: 4242, command: `deploy ${PROD}`, since: '2026-01-01T00:00:00Z' });
  await onHost(`mkdir -p /var/lib/berth/apps/${PROD}/lock && printf '%s\\n' '${holder}' > /var/lib/berth/apps/${PROD}/lock/holder.json`);
  const st = await p.berth('lock', ['status', PROD]);
  assert.equal(st.code, 0, st.all);
  assert.match(st.stdout, new RegExp(`h1: ${PROD} locked by ci@elsewhere pid 4242 "deploy ${PROD}"`));
  // A config change (a no-op deploy stops before taking the lock).
  p.writeApp(PROD, { ...PROD_CONFIG, env: { ...PROD_CONFIG.env, BUMP: '1' } });
  const blocked = await p.berth('deploy', [PROD]);
  assert.notEqual(blocked.code, 0);
  assert.match(blocked.all, /ci@elsewhere/);
  const rel = await p.berth('lock', ['release', PROD]);
  assert.equal(rel.code, 0, rel.all);
  assert.match(rel.stdout, /released kml-shop's lock \(held by ci@elsewhere/);
  assert.match((await p.berth('lock', ['status', PROD])).stdout, new RegExp(`h1: ${PROD} is not locked`));
  const again = await p.berth('deploy', [PROD]);
  assert.equal(again.code, 0, again.all);
  assert.match((await p.berth('lock', ['status', PROD, '-d', 'staging'])).stdout, new RegExp(`h1: ${STAGING} is not locked`));
});

test('--hosts on logs selects the host; a host the app does not use is an error', async () => {
  const ok = await p.berth('logs', [PROD, '--hosts', 'h1', '--tail', '3']);
  assert.equal(ok.code, 0, ok.all);
  const bad = await p.berth('logs', [PROD, '--hosts', 'h9']);
  assert.equal(bad.code, 2, 'a host the app does not use is a usage error');
  assert.match(bad.stderr, /kml-shop does not deploy to h9 \(its hosts: h1/);
});

test('remove: refused without a terminal unless --yes; removes only that app, its route, host state and (--volumes) volumes', async () => {
  const refused = await p.berth('remove', [PROD, '-d', 'staging']);
  assert.equal(refused.code, 2, 'no terminal and no --yes: a usage error, nothing removed');
  assert.match(refused.stderr, /rerun with --yes/);
  assert.equal((await httpRequest('http://kml-shop-staging.berth.test/')).status, 200, 'still serving after the refusal');

  const r = await p.berth('remove', [PROD, '-d', 'staging', '--yes', '--volumes']);
  assert.equal(r.code, 0, r.all);
  assert.equal(await projectContainers(STAGING), '');
  assert.equal(await projectVolumes(STAGING), '');
  assert.equal((await onHost(`ls -d /var/lib/berth/apps/${STAGING} /etc/berth/${STAGING} /var/lib/berth/edge/dynamic/${STAGING}.yml 2>/dev/null || true`)).trim(), "");
  assert.equal((await httpRequest('http://kml-shop-staging.berth.test/')).status, 404, 'Traefik no longer routes it');
  // Production is untouched.
  assert.equal((await httpsRequest('https://kml-shop.berth.test/', { ca: sandboxCaBundle() })).status, 200);
  assert.ok(await projectVolumes(PROD));
  const details = await p.berth('details', ['h1', '--no-certs']);
  assert.doesNotMatch(details.stdout, new RegExp(STAGING));

  // Without --volumes the data stays.
  const keep = await p.berth('remove', [PROD, '--yes']);
  assert.equal(keep.code, 0, keep.all);
  assert.equal(await projectContainers(PROD), '');
  assert.ok(await projectVolumes(PROD), 'volumes kept without --volumes');
});
