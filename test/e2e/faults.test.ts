// Faults name their real cause, end to end: the host's SSH goes away mid-deploy (the error says
// "lost the SSH connection", the host, the phase and that the old release keeps serving; the rerun
// converges); a deploy that switched but never recorded nor retired is finished by the next run;
// a rollback to a release whose image is gone says the image is missing.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { waitFor } from '../../src/sandbox/http.ts';
import { REPO_ROOT } from '../../src/sandbox/paths.ts';
import { berthArgv, cutSsh, ensureHostImages, H1, makeProject, resetApps, restoreSsh, type TestProject } from './support/project.ts';

const RUN = randomBytes(3).toString('hex');
const APP = `flt-drop${RUN}`;
const PROJECT = `berth-${APP}`;
// A tag of its own, so removing it (the "pruned image" case) touches no other test's image.
const IMAGE = `flt-gone-${RUN}/testapp`;
let p: TestProject;

const docker = (...args: string[]) => execFileSync('docker', ['--context', H1.context, ...args], { encoding: 'utf8' }).trim();
const onHost = (script: string) =>
  execFileSync('ssh', ['-p', String(H1.sshPort), `${H1.sshUser}@${H1.sshHost}`, script], { encoding: 'utf8' }).trim();
const web = (colour: string) =>
  docker('ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', `label=com.docker.compose.service=web-${colour}`);
const stateOf = (id: string) => docker('inspect', '-f', '{{.State.Status}}', id);
const current = () => JSON.parse(onHost(`cat /var/lib/berth/apps/${APP}/current.json`)) as { release: string; colour: string; previous: unknown };
const routedColour = () => /-web-(blue|green):/.exec(onHost(`cat /var/lib/berth/edge/dynamic/${APP}.yml`))?.[1];


const config = () => ({
  image: IMAGE,
  hosts: ['h1'],
  domains: [`${APP}.berth.test`],
  tls: { mode: 'none' },
  port: 80,
  // start_period covers BOOT_DELAY_MS below: checks failing while it boots do not count.
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 5, start_period: '12s' },
  volumes: { data: '/data' },
  release_command: 'testapp migrate',
  // A new colour takes 6 s to listen, so the SSH cut made as the release command begins (its
  // `docker exec` into the machine takes seconds on a loaded one) lands before the switch.
  env: { BOOT_DELAY_MS: '6000' },
  deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 30 },
});

before(async () => {
  ensureHostImages(['berth/testapp:v1', 'berth/testapp:v2']);
  for (const v of ['v1', 'v2']) docker('tag', `berth/testapp:${v}`, `${IMAGE}:${v}`);
  p = makeProject('berth-e2e-flt-');
  p.writeApp(APP, config());
  const setup = await p.berth('setup', ['h1']);
  assert.equal(setup.code, 0, setup.all);
  const r = await p.berth('deploy', [APP, '--release', 'v1']);
  assert.equal(r.code, 0, r.all);
});

after(() => {
  resetApps([APP]);
  for (const v of ['v1', 'v2']) {
    try {
      execFileSync('docker', ['--context', H1.context, 'rmi', `${IMAGE}:${v}`], { stdio: 'ignore' });
    } catch {
      /* already gone (the rollback test removes v1) */
    }
  }
  p?.cleanup();
});

test('SSH lost mid-deploy: the error names the lost connection, host, phase and what serves; the rerun converges', async () => {
  const before = { colour: current().colour, id: web(current().colour) };
  const child = spawn(...berthArgv('deploy', [APP, '--release', 'v2']), {
    cwd: REPO_ROOT,
    env: { ...process.env, BERTH_ROOT: p.root, CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let dropped: Promise<void> | undefined;
  child.stderr.on('data', (d) => {
    stderr += d;
    // The host's SSH goes away with every session (its firewall resets them and refuses new ones).
    if (!dropped && /--- h1: release command/.test(stderr)) dropped = cutSsh(H1);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const code: number = await new Promise((r) => child.on('close', (c) => r(c ?? 1)));
  clearTimeout(timer);
  await dropped;
  await restoreSsh(H1);
  assert.ok(dropped, 'the connection was dropped during the deploy');
  assert.notEqual(code, 0, stderr);
  const phase = /lost the SSH connection to h1 during "(release command|start \+ health)"/.exec(stderr)?.[1];
  assert.ok(phase, `lost during the release command or the health wait, before the switch:\n${stderr}`);
  assert.match(stderr, new RegExp(`the old release v1-[\\w-]+ keeps serving on ${before.colour}`), stderr);
  assert.doesNotMatch(stderr, /did not become healthy|held by|rm -rf|Traceback|\n\s+at /, stderr);
  assert.ok(!stderr.includes(`--- done: h1: ${phase}`), 'the failed phase is not logged as done');
  assert.doesNotMatch(stderr, /\u001b/, 'no terminal control codes with CI=1');
  assert.equal(routedColour(), before.colour, 'routing untouched');
  assert.equal(stateOf(before.id), 'running', 'the old colour still serves');
  const again = await p.berth('deploy', [APP, '--release', 'v2']);
  assert.equal(again.code, 0, again.all);
  assert.match(again.all, /took over a lock left by a dead deploy/);
  assert.notEqual(routedColour(), before.colour);
});

test('switched but neither recorded nor retired: the next run records it and retires the old colour', async () => {
  const live = current();
  const oldColour = live.colour === 'blue' ? 'green' : 'blue';
  const old = web(oldColour);
  // The state a connection lost between the switch and its record leaves: current.json names the
  // old colour, the route the new one, the old colour runs and nothing is going to stop it.
  await waitFor('old colour retired by the last deploy', async () => stateOf(old) === 'exited' || undefined, { timeoutMs: 30_000, intervalMs: 500 });
  docker('start', old);
  onHost(`cd /var/lib/berth/apps/${APP} && printf '%s' '${JSON.stringify({ release: live.previous && (live.previous as { release: string }).release, colour: oldColour, previous: null, switchedAt: 'x' })}' > current.json && rm -f retire-*.pid`);
  const r = await p.berth('deploy', [APP, '--release', 'v2']);
  assert.equal(r.code, 0, r.all);
  assert.match(r.all, new RegExp(`recorded ${live.release} on ${live.colour} as live`), r.all);
  assert.match(r.all, new RegExp(`retiring ${oldColour}, left running by an interrupted deploy`), r.all);
  assert.match(r.all, /nothing changed/);
  assert.equal(current().colour, live.colour);
  await waitFor('old colour retired', async () => stateOf(old) === 'exited' || undefined, { timeoutMs: 30_000, intervalMs: 500 });
  assert.equal(stateOf(web(live.colour)), 'running');
});

test('deploy --dry-run on a live app: reads run, nothing is written or started, the steps are printed', async () => {
  const snapshot = () => ({
    containers: docker('ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`)
      .split('\n')
      .map((id) => docker('inspect', '-f', '{{.Id}} {{.State.Status}} {{.State.StartedAt}} {{.RestartCount}}', id))
      .join('\n'),
    files: onHost(`cd /var/lib/berth/apps/${APP} && find . -type f | sort | xargs md5sum; md5sum /var/lib/berth/edge/dynamic/${APP}.yml; ls /etc/berth/${APP}/releases 2>/dev/null`),
  });
  const before = snapshot();
  const live = current();
  rmSync(join(p.root, 'compose', APP), { recursive: true, force: true });
  const r = await p.berth('deploy', [APP, '--release', 'v1', '--dry-run']);
  assert.equal(r.code, 0, r.all);
  // What it does write is local: compose/ is rendered, as plan does (the README says so).
  assert.ok(existsSync(join(p.root, 'compose', APP, 'compose.yml')), 'compose/ rendered locally');
  const idle = live.colour === 'blue' ? 'green' : 'blue';
  // (The release is recorded by the switch's own script: no separate record step for a pulled image.)
  for (const step of ['observe', 'lock', 'upload', 'release command', 'start + health', 'switch', 'retire']) assert.match(r.all, new RegExp(`h1: ${step.replace('+', '\\+')}`), step);
  assert.match(r.all, new RegExp(`would run: .*compose .*up -d --no-deps web-${idle}`));
  assert.match(r.all, /would run: .*compose .*run --rm --no-deps -T release testapp migrate/);
  assert.match(r.all, /would run: ssh .*: dest="\$1"/, 'the route switch is printed');
  assert.match(r.all, new RegExp(`dry run — ${APP} v1-[\\w-]+ would go live on ${idle} \\(replacing ${live.release} on ${live.colour}\\); nothing was written or started`));
  assert.deepEqual(snapshot(), before, 'no container, file or route changed');
  assert.deepEqual(current(), live);
});

test('plan --remote shows what a deploy changes compared with the live release', async () => {
  const live = current();
  p.writeApp(APP, { ...config(), env: { NEW_KEY: 'value-not-shown' }, domains: [`${APP}.berth.test`, `www2.${APP}.berth.test`] });
  try {
    const r = await p.berth('plan', [APP, '--remote', '--release', 'v3']);
    assert.equal(r.code, 0, r.all);
    assert.match(r.stdout, new RegExp(`${APP}@h1: live ${live.release} \\(${live.colour}\\) → v3-`));
    assert.match(r.stdout, /release cmd\s+testapp migrate/);
    assert.match(r.stdout, /env keys\s+\+ NEW_KEY/);
    assert.match(r.stdout, new RegExp(`domains\\s+\\+ www2\\.${APP}\\.berth\\.test`));
    // Plain env values show in plan's own compose diff (as before); the remote part names keys only.
    assert.doesNotMatch(r.stdout.slice(r.stdout.indexOf('on the servers')), /value-not-shown/);
  } finally {
    p.writeApp(APP, config());
  }
});

test('a rollback to a release whose image is gone says the image is missing', async () => {
  docker('rmi', `${IMAGE}:v1`);
  const r = await p.berth('rollback', [APP]);
  assert.notEqual(r.code, 0, r.all);
  assert.match(r.all, new RegExp(`image ${IMAGE.replace(/[/.]/g, '\\$&')}:v1 of release v1-[\\w-]+ is missing on h1`), r.all);
  assert.doesNotMatch(r.all, /healthy/);
  assert.equal(current().release.startsWith('v2-'), true, 'v2 still live');
});
