// The delayed retire and its cancel, run through sh against a `docker` that logs its calls and
// takes its time to stop: a cancel before the stop prevents it; a cancel once the stop has begun
// waits for it to end (a rollback must not see a colour "running healthy" that is about to exit).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { OBSERVE_RETIRING } from '../../src/exec/observe-lines.ts';
import { scriptParts } from '../../src/exec/host-scripts.ts';

function host(stopSeconds: number) {
  const root = mkdtempSync(join(tmpdir(), 'berth-retire-'));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'docker'), `#!/bin/sh\necho "$*" >> ${root}/docker.log\n[ "$1" = stop ] && sleep ${stopSeconds}\necho "$*" >> ${root}/docker.done\n`);
  chmodSync(join(bin, 'docker'), 0o755);
  writeFileSync(join(root, 'current.json'), JSON.stringify({ release: 'v2', colour: 'green' }, null, 2) + '\n');
  const env = { PATH: `${bin}:/usr/bin:/bin` };
  const pidfile = join(root, 'retire-blue.pid');
  const sh = (part: { script: string; args: string[] }) => spawnSync('sh', ['-c', part.script, 'sh', ...part.args], { env, encoding: 'utf8', timeout: 30_000 });
  const read = (f: string) => (existsSync(join(root, f)) ? readFileSync(join(root, f), 'utf8') : '');
  const retire = (delay: number) => sh(scriptParts.retireLater('c0ffee', 'blue', join(root, 'current.json'), pidfile, delay, 10));
  const cancel = () => sh(scriptParts.cancelRetire(pidfile));
  const retiring = () => spawnSync('sh', ['-c', `dir=${root}; ${OBSERVE_RETIRING}`], { env, encoding: 'utf8' }).stdout.trim().split('\n').slice(1);
  const waitFor = async (f: () => boolean, ms = 5000) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (f()) return;
    assert.fail('timed out');
  };
  return { root, pidfile, read, retire, cancel, retiring, waitFor };
}

test('the retire stops the container after its delay and cleans up after itself', async () => {
  const h = host(0);
  assert.equal(h.retire(0.2).stdout.trim(), 'scheduled');
  await h.waitFor(() => h.read('docker.done').includes('stop -t 10 c0ffee'));
  await h.waitFor(() => readdirSync(h.root).every((f) => !f.startsWith('retire-blue.pid')));
});

test('a cancel inside the delay prevents the stop', async () => {
  const h = host(0);
  h.retire(0.5);
  await h.waitFor(() => existsSync(h.pidfile));
  assert.deepEqual(h.retiring(), ['blue']);
  assert.equal(h.cancel().stdout.trim(), 'cancelled');
  await sleep(900);
  assert.equal(h.read('docker.log'), '', 'no docker stop after a cancel');
  assert.deepEqual(readdirSync(h.root).filter((f) => f.startsWith('retire-blue.pid')), []);
});

test('a cancel once the stop has begun waits for it to end, and the colour counts as retiring meanwhile', async () => {
  const h = host(1.5);
  h.retire(0.1);
  await h.waitFor(() => h.read('docker.log').includes('stop'));
  assert.deepEqual(h.retiring(), ['blue'], 'a stop in flight is still a retiring colour');
  const t0 = Date.now();
  const r = h.cancel();
  const waited = Date.now() - t0;
  assert.equal(r.stdout.trim(), '', 'nothing was cancelled: the stop had begun');
  assert.ok(h.read('docker.done').includes('stop'), 'the cancel returned only after the stop ended');
  assert.ok(waited >= 500, `waited ${waited} ms`);
  assert.deepEqual(h.retiring(), []);
});

test('a stale stop marker (its process gone) is removed by the cancel, not waited on', () => {
  const h = host(0);
  // A pid that is not running: the stop was interrupted (a reboot).
  const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
  writeFileSync(`${h.pidfile}.${dead}.stopping`, '');
  const t0 = Date.now();
  h.cancel();
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(existsSync(`${h.pidfile}.${dead}.stopping`), false);
});
