// The health gate's host-side wait (WAIT_HEALTHY): run through sh against a scripted `docker` that
// reports a sequence of container states, one per `docker inspect`, and (when given) a scripted
// `docker events` stream; without one the stream ends at once and the wait falls back to polling.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WAIT_HEALTHY } from '../../src/exec/host-scripts.ts';

function wait(states: string[], timeout = 5, start?: 'ok' | 'fail', events?: string, svc = 'web-blue') {
  const bin = mkdtempSync(join(tmpdir(), 'berth-wait-'));
  writeFileSync(join(bin, 'states'), states.join('\n') + '\n');
  // ps prints the id only for the right labels; inspect pops the next state (the last one repeats).
  writeFileSync(
    join(bin, 'docker'),
    `#!/bin/sh
case "$1" in
  ps) case "$*" in *"project=berth-app"*"service=web-blue"*) echo 0123456789abcdef;; esac;;
  inspect) echo x >> ${bin}/inspected; f=${bin}/states; head -n 1 "$f"; [ "$(wc -l < "$f")" -gt 1 ] && sed -i 1d "$f";;
  events) echo "$*" > ${bin}/events-args; echo $$ > ${bin}/events-pid; [ -f ${bin}/events ] && exec sh ${bin}/events;;
  start) echo "$2" >> ${bin}/started; [ -e ${bin}/start-fails ] && { echo 'Error response from daemon: driver failed programming external connectivity' >&2; echo 'Error: failed to start containers: x' >&2; exit 1; }; echo "$2";;
esac
`,
  );
  chmodSync(join(bin, 'docker'), 0o755);
  if (start === 'fail') writeFileSync(join(bin, 'start-fails'), '');
  if (events) writeFileSync(join(bin, 'events'), events);
  const t0 = Date.now();
  const r = spawnSync('sh', ['-c', WAIT_HEALTHY, 'sh', 'berth-app', svc, String(timeout), ...(start ? ['start'] : [])], { env: { PATH: `${bin}:/usr/bin:/bin`, TMPDIR: bin }, encoding: 'utf8' });
  const started = existsSync(join(bin, 'started')) ? readFileSync(join(bin, 'started'), 'utf8').trim().split('\n') : [];
  const lines = (f: string) => (existsSync(join(bin, f)) ? readFileSync(join(bin, f), 'utf8').trim().split('\n') : []);
  return { code: r.status, out: r.stdout.trim(), ms: Date.now() - t0, started, inspects: lines('inspected').length, eventsArgs: lines('events-args')[0] ?? '', bin };
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

test('with an event stream: inspected once at the start and once per event, not polled; the stream is stopped on the way out', () => {
  // Healthy comes 0.4 s in: a poll every 0.1 s would inspect ~5 times; the stream would run 30 s more if left.
  const r = wait(['running starting', 'running healthy'], 30, 'ok', "sleep 0.4; echo 'health_status: healthy'; sleep 30\n");
  assert.deepEqual([r.code, r.out], [0, 'healthy 0123456789abcdef']);
  assert.equal(r.inspects, 2);
  assert.ok(r.ms < 5000, `took ${r.ms} ms: the stream was waited for`);
  assert.match(r.eventsArgs, /^events --since \d+ --until \d+ --filter type=container --filter container=0123456789abcdef --format/);
  const [since, until] = /--since (\d+) --until (\d+)/.exec(r.eventsArgs)!.slice(1).map(Number);
  assert.equal(until! - since!, 31, 'from a second before the start (no event missed) to the deadline');
  assert.deepEqual(readdirSync(r.bin).filter((f) => f.startsWith('berth-wait')), [], 'fifo removed');
  const pid = Number(readFileSync(join(r.bin, 'events-pid'), 'utf8'));
  assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the events process was killed');
  // A crash reported by the stream fails at once.
  const died = wait(['running starting', 'exited starting'], 30, 'ok', 'sleep 0.2; echo die; sleep 30\n');
  assert.equal(died.code, 1);
  assert.match(died.out, /exited/);
  assert.ok(died.ms < 5000);
});

test('a container that is never created times out saying so, without inspecting anything', () => {
  const r = wait(['running healthy'], 1, undefined, undefined, 'web-green');
  assert.deepEqual([r.code, r.out, r.inspects], [1, 'timed out (container not created)', 0]);
});
