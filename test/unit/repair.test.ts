// Issue 24 (pure parts): what a rollback or deploy removes (services the release does not define),
// what status says about stopped services and which command repairs them, and which services of
// a live release `start` looks after.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseObservation } from '../../src/exec/state.ts';
import { orphanServices } from '../../src/plan/orphans.ts';
import { statusRed, summarise } from '../../src/app/ops.ts';
import { liveServices } from '../../src/app/start.ts';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pruneScript } from '../../src/exec/prune.ts';
import { restoreJob } from '../../src/exec/restore-job.ts';
import { observeAppPart } from '../../src/exec/host-scripts.ts';
import { restoreNote } from '../../src/plan/restore-journal.ts';

const ps = (service: string, id: string, state = 'running', status = 'Up 1 minute (healthy)') =>
  JSON.stringify({ ID: id, Names: `berth-shop-${service}-1`, State: state, Status: status, Labels: `com.docker.compose.service=${service},berth.app=shop` });
const observe = (containers: string[]) =>
  parseObservation(['--current', JSON.stringify({ release: 'v1-a', colour: 'blue', previous: null, switchedAt: 'x' }), '--releases', '--containers', ...containers, '--end'].join('\n'));

const V1 = 'services:\n  web-blue: {}\n  web-green: {}\n  worker-jobs: {}\n  litestream: {}\n';

test('orphans: services running that the target release does not define (a worker only the newer release had)', () => {
  const s = observe([ps('web-blue', 'a'), ps('web-green', 'b', 'exited'), ps('worker-jobs', 'c'), ps('worker-mail', 'd'), ps('redis', 'e'), ps('litestream', 'f')]);
  assert.deepEqual(orphanServices(s.containers, V1), ['redis', 'worker-mail']);
  assert.deepEqual(orphanServices(observe([ps('web-blue', 'a')]).containers, V1), []);
});

test('status: a stopped live colour or service is red and names the command that brings it back', () => {
  const stopped = summarise(observe([ps('web-blue', 'a', 'exited', 'Exited (137) 5 seconds ago'), ps('web-green', 'b', 'exited'), ps('worker-jobs', 'c', 'exited')]), 'shop');
  assert.equal(stopped.health, 'exited');
  // The idle colour (retired) is stopped on purpose: not a problem.
  assert.deepEqual(stopped.problems, ['web-blue, worker-jobs are stopped: run npm run start -- shop (or any deploy)']);
  const replicatorDown = summarise(observe([ps('web-blue', 'a'), ps('litestream', 'l', 'exited')]), 'shop');
  assert.equal(replicatorDown.health, 'healthy');
  assert.deepEqual(replicatorDown.problems, ['litestream is stopped: run npm run start -- shop (or any deploy)']);
  const row = { host: 'h1', app: 'shop', domains: [], certificate: [], ...replicatorDown };
  assert.equal(statusRed(row), true, 'a healthy colour with its replicator down is red');
  assert.equal(statusRed({ ...row, problems: [] }), false);
});

test('start: every service of the live release but the idle colour', () => {
  assert.deepEqual(liveServices(V1, 'green'), ['web-green', 'worker-jobs', 'litestream']);
});

test('restore journal: status says a restore was cut off and what to run; a running one is followed', () => {
  const cut = parseObservation(['--current', JSON.stringify({ release: 'v1-a', colour: 'blue', previous: null, switchedAt: 'x' }), '--containers', ps('web-blue', 'a', 'exited'),
    '--restore', 'dead', 'step safety', 'since 1767225600', 'params {"kind":"sqlite"}', '--end'].join('\n'));
  assert.deepEqual(cut.restore, { alive: false, step: 'safety', since: 1767225600, params: '{"kind":"sqlite"}' });
  const s = summarise(cut, 'shop');
  assert.deepEqual(s.problems, ['a backup:restore was cut off after its step "safety" (started 2026-01-01T00:00:00.000Z): the app may be down or unreplicated; run npm run backup:restore -- shop to finish it']);
  const running = parseObservation(['--restore', 'alive', 'step ', 'since x', 'params {}', '--end'].join('\n'));
  assert.equal(running.restore?.alive, true);
  assert.match(restoreNote('shop', running.restore!), /^a backup:restore is running on the host: the app is stopped until it ends, and it finishes by itself/);
});

test('host scripts of the restore job and the observation parse as POSIX sh', () => {
  const t = { user: 'root', address: '10.0.0.1', port: 22 };
  const args = { kind: 'sqlite' as const, journal: '/j', lock: '/l', app: 'shop', project: 'berth-shop', colour: 'blue', healthTimeoutSeconds: 30, rest: ['i', 'n', '/s', '', '/d'] };
  const cmd = restoreJob(t, false, args, '{}');
  // The remote command is `sh -c <launcher> berth 0 /j <job> …`: check both texts with sh -n.
  const words = shWords(cmd.argv.at(-1)!);
  assert.match(words[2]!, /^\ntrap '' HUP\nresume="\$1"; J="\$2"; JOB="\$3"/);
  assert.match(words[6]!, /^\nreplicator\(\)/);
  for (const script of [words[2]!, words[6]!]) execFileSync('sh', ['-n', '-c', script]);
  execFileSync('sh', ['-n', '-c', observeAppPart('/d', 'shop', { secretSet: '/s' }).script]);
});

/** The words of a command line the host's shell would see (the test's own sh splits it). */
const shWords = (line: string) => execFileSync('sh', ['-c', `eval "set -- $1"; for a in "$@"; do printf '%s\\0' "$a"; done`, 'x', line], { encoding: 'utf8' }).split('\0').slice(0, -1);

test('prune removes the secret sets no remaining release names and no container mounts', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-prune-'));
  try {
    const rel = join(root, 'releases');
    const envs = join(root, 'etc', 'releases');
    const sets = join(root, 'etc', 'sets');
    for (const d of [join(rel, 'v1-a'), join(rel, 'v2-b'), envs, join(sets, 'aaaa'), join(sets, 'bbbb'), join(sets, 'cccc'), join(sets, 'dddd'), join(root, 'bin')]) mkdirSync(d, { recursive: true });
    writeFileSync(join(envs, 'v1-a.env'), 'BERTH_SECRETS_ID="aaaa"\n');
    writeFileSync(join(envs, 'v2-b.env'), 'BERTH_SECRETS_ID="bbbb"\nX="cccc"\n');
    // A stand-in for the docker CLI: one container of the project, mounting set dddd.
    writeFileSync(join(root, 'bin', 'docker'), `#!/bin/sh\ncase "$1" in ps) echo c1;; inspect) echo "${sets}/dddd/PW /var/lib/docker/volumes/x ";; *) exit 1;; esac\n`, { mode: 0o755 });
    const cmd = pruneScript({ user: 'root', address: 'h', port: 22 }, rel, envs, ['v1-a'], [], { dir: sets, project: 'berth-shop' });
    const script = shWords(cmd.argv.at(-1)!);
    const out = execFileSync('sh', ['-c', script[2]!, ...script.slice(3)], { encoding: 'utf8', env: { PATH: `${join(root, 'bin')}:${process.env.PATH}` } });
    assert.match(out, /^pruned v1-a$/m);
    // aaaa went with v1-a; bbbb is v2-b's; cccc is only a value that looks like one (removed); dddd is mounted.
    assert.deepEqual(readdirSync(sets).sort(), ['bbbb', 'dddd']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a release command's one-off container (left by a cut-off run) is no service: not the colour, not stopped, not an orphan", () => {
  const oneoff = JSON.stringify({ ID: 'z', Names: 'berth-shop-release-run-1a2b', State: 'exited', Status: 'Exited (1) 3 seconds ago', Labels: 'com.docker.compose.service=release,com.docker.compose.oneoff=True,berth.app=shop' });
  const webOneoff = JSON.stringify({ ID: 'y', Names: 'berth-shop-web-blue-run-3c4d', State: 'running', Status: 'Up 2 seconds', Labels: 'com.docker.compose.service=web-blue,com.docker.compose.oneoff=True,berth.app=shop' });
  const s = observe([webOneoff, ps('web-blue', 'a'), oneoff]);
  assert.deepEqual(s.containers.map((c) => c.id), ['a']);
  assert.deepEqual(summarise(s, 'shop').problems, []);
  assert.equal(summarise(s, 'shop').health, 'healthy');
  assert.deepEqual(liveServices('services:\n  web-blue: {}\n  web-green: {}\n  release: { profiles: [release] }\n', 'blue'), ['web-blue'], "start never starts the release command's service");
});
