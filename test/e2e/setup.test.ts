// `setup` on a bare server, as a new Hetzner box arrives: h13 has sshd and apt but no Docker.
// setup installs Docker Engine + the Compose plugin over SSH with apt, checks their versions on the
// host, then starts the edge; a rerun changes nothing; a host whose Compose plugin went missing is repaired.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { H1, H13, engineId, makeProject, onHost, resetHost, type TestProject } from './support/project.ts';

let p: TestProject;
const edgeIds = async () => (await onHost(H13, 'docker ps -q --filter label=com.docker.compose.project=berth-edge | sort')).stdout.trim();

before(async () => {
  await resetHost(H13); // bare again, whatever an earlier run installed
  p = makeProject('berth-setup-e2e-', [H13]);
});

after(() => p?.cleanup());

test('a bare host gets Docker Engine and Compose from apt, checked on the host, then the edge', async () => {
  assert.equal(await engineId(H13), undefined, 'h13 starts without Docker');
  assert.notEqual((await onHost(H13, 'command -v docker', { allowFail: true })).code, 0);
  const r = await p.berth('setup', ['h13']);
  assert.equal(r.code, 0, r.all);
  assert.match(r.all, /h13: docker engine \+ compose plugin.*installed, engine 2\d\.\d+\.\d+\S*, compose 2\.\d+\.\d+\S* \(on the host\)/);
  const id = await engineId(H13);
  assert.ok(id, 'docker info answers on h13 after setup');
  assert.notEqual(id, await engineId(H1), 'its own engine');
  const pkgs = (await onHost(H13, "dpkg-query -W -f '${Package}\\n' docker.io docker-cli docker-compose")).stdout.trim().split('\n').sort();
  assert.deepEqual(pkgs, ['docker-cli', 'docker-compose', 'docker.io'], 'installed as packages of the host');
  assert.match((await onHost(H13, 'docker ps --format "{{.Names}}"')).stdout, /berth-edge-traefik-1/);
});

test('setup again installs nothing and leaves the edge running untouched', async () => {
  const before = await edgeIds();
  const r = await p.berth('setup', ['h13']);
  assert.equal(r.code, 0, r.all);
  assert.doesNotMatch(r.all, /installed, engine/);
  assert.match(r.all, /engine 2\d\.\S+, compose 2\.\S+ \(on the host\)/);
  assert.equal(await edgeIds(), before);
});

test('a host whose Compose plugin went missing is repaired by setup (the check runs on the host, not here)', async () => {
  await onHost(H13, 'dpkg -r docker-compose >/dev/null 2>&1');
  assert.notEqual((await onHost(H13, 'docker compose version', { allowFail: true })).code, 0, 'compose gone on h13');
  const r = await p.berth('setup', ['h13']);
  assert.equal(r.code, 0, r.all);
  assert.match(r.all, /installed, engine .*compose 2\./);
  assert.equal((await onHost(H13, 'docker compose version --short')).code, 0);
});
