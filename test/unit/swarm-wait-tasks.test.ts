// The Swarm health gate (swarmAppScripts.waitTasks) run by sh against a stand-in `docker` that plays
// back task rows: a task of the release that crashed fails the gate at once; a task Docker itself
// failed to wire up (the service-binding race of a busy node) is waited past while Swarm replaces it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { swarmAppScripts } from '../../src/exec/swarm-app-scripts.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-waittasks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Run the gate with `docker inspect` answering `frames[i]` on its i-th call (the last one repeats). */
function gate(frames: string[], timeoutSeconds = 5) {
  for (const f of readdirSync(dir)) rmSync(join(dir, f)); // no frame of an earlier call plays back
  frames.forEach((f, i) => writeFileSync(join(dir, `frame${i}`), f));
  writeFileSync(join(dir, 'n'), '0');
  writeFileSync(join(dir, 'docker'), `#!/bin/sh
case "$1 $2" in
  "service inspect") echo "2026-12-07 05:12:00.000000000 +0000 UTC" ;;
  "service ps") echo t1; echo t2 ;;
  inspect*) n=$(cat ${dir}/n); [ -f ${dir}/frame$n ] || n=${frames.length - 1}; cat ${dir}/frame$n; echo $((n + 1)) > ${dir}/n ;;
esac
`);
  chmodSync(join(dir, 'docker'), 0o755);
  const cmd = swarmAppScripts.waitTasks({ user: 'root', address: 'h', port: 22 }, 'berth-a_web-green', 'v2', 2, timeoutSeconds);
  const remote = cmd.argv[cmd.argv.indexOf('--') + 1]!;
  return spawnSync('sh', ['-c', remote], { encoding: 'utf8', env: { PATH: `${dir}:${process.env.PATH}` } });
}

const row = (state: string, desired: string, err = '') => `v2|${state}|${desired}|2026-12-07 05:12:30.1 +0000 UTC|node1|${err}`;
const BINDING = 'failed to activate service binding for container berth-a_web-green.1.x: network sandbox for container 05809a not found';

test('two healthy tasks pass the gate', () => {
  const r = gate([`${row('running', 'running')}\n${row('running', 'running')}\n`]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /healthy 2/);
});

test('a task of the release that crashed fails the gate at once, naming it', () => {
  const r = gate([`${row('running', 'running')}\n${row('failed', 'shutdown', 'task: non-zero exit (1)')}\n`]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /a task ended: v2\|failed\|shutdown\|.*non-zero exit \(1\)/);
});

test("Docker's service-binding race is waited past: Swarm's replacement task passes the gate", () => {
  const r = gate([
    `${row('running', 'running')}\n${row('failed', 'shutdown', BINDING)}\n`,
    `${row('running', 'running')}\n${row('failed', 'shutdown', BINDING)}\n${row('starting', 'running')}\n`,
    `${row('running', 'running')}\n${row('failed', 'shutdown', BINDING)}\n${row('running', 'running')}\n`,
  ]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /healthy 2/);
});

test('a task that keeps failing that way still ends at the timeout, saying what Docker said', () => {
  const r = gate([`${row('running', 'running')}\n${row('failed', 'shutdown', BINDING)}\n`], 1);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /timed out \(1 of 2 running; Docker failed to start one: .*service binding/);
});
