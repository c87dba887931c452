// The health gate's host-side wait (WAIT_HEALTHY): run through sh against a scripted `docker` that
// reports a sequence of container states, one per `docker inspect`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WAIT_HEALTHY } from '../../src/exec/host-scripts.ts';

function wait(states: string[], timeout = 5, start?: 'ok' | 'fail') {
  const bin = mkdtempSync(join(tmpdir(), 'berth-wait-'));
  writeFileSync(join(bin, 'states'), states.join('\n') + '\n');
  // ps prints the id only for the right labels; inspect pops the next state (the last one repeats).
  writeFileSync(
    join(bin, 'docker'),
    `#!/bin/sh
case "$1" in
  ps) case "$*" in *"project=berth-app"*"service=web-blue"*) echo 0123456789abcdef;; esac;;
  inspect) f=${bin}/states; head -n 1 "$f"; [ "$(wc -l < "$f")" -gt 1 ] && sed -i 1d "$f";;
  start) echo "$2" >> ${bin}/started; [ -e ${bin}/start-fails ] && { echo 'Error response from daemon: driver failed programming external connectivity' >&2; echo 'Error: failed to start containers: x' >&2; exit 1; }; echo "$2";;
esac
`,
  );
  chmodSync(join(bin, 'docker'), 0o755);
  if (start === 'fail') writeFileSync(join(bin, 'start-fails'), '');
  const t0 = Date.now();
  const r = spawnSync('sh', ['-c', WAIT_HEALTHY, 'sh', 'berth-app', 'web-blue', String(timeout), ...(start ? ['start'] : [])], { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
  const started = existsSync(join(bin, 'started')) ? readFileSync(join(bin, 'started'), 'utf8').trim().split('\n') : [];
  return { code: r.status, out: r.stdout.trim(), ms: Date.now() - t0, started };
}

test('starting → healthy: prints the container id', () => {
  const r = wait(['created starting', 'running starting', 'running starting', 'running healthy']);
  assert.deepEqual([r.code, r.out], [0, 'healthy 0123456789abcdef']);
});

test('an exited or crash-looping container fails at once, not at the timeout', () => {
  for (const last of ['exited starting', 'restarting unhealthy', 'dead none']) {
    const r = wait(['running starting', last], 30);
    assert.equal(r.code, 1);
    assert.match(r.out, /exited/);
    assert.ok(r.ms < 5000, `${last}: took ${r.ms} ms`);
  }
});

test('unhealthy fails; a container that never gets healthy times out', () => {
  assert.deepEqual(Object.values(wait(['running starting', 'running unhealthy'])).slice(0, 2), [1, 'container unhealthy']);
  const r = wait(['running starting'], 1);
  assert.equal(r.code, 1);
  assert.match(r.out, /timed out \(container running starting\)/);
});

test('a colour created while the release command ran is started once, by the wait itself', () => {
  const r = wait(['created none', 'running starting', 'running healthy'], 5, 'ok');
  assert.deepEqual([r.code, r.out], [0, 'healthy 0123456789abcdef']);
  assert.deepEqual(r.started, ['0123456789abcdef']);
  assert.deepEqual(wait(['running healthy']).started, [], 'never started without the flag');
});

test('a created colour that cannot start fails at once with the engine\'s reason', () => {
  const r = wait(['created none'], 30, 'fail');
  assert.equal(r.code, 1);
  assert.match(r.out, /^container did not start \(Error response from daemon: driver failed programming external connectivity Error: failed to start containers: x ?\)$/);
  assert.ok(r.ms < 5000);
});
