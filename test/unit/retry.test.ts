// Transient failures are retried, bounded, one log line per retry; others fail at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retrying } from '../../src/app/retry.ts';
import { CommandError } from '../../src/errors.ts';
import { createLogger } from '../../src/log/logger.ts';

const fast = (transient: (e: Error) => boolean) => ({ retries: 2, minTimeoutMs: 1, transient });
const sshDown = () => new CommandError(['ssh', 'root@h1', '--', 'x'], 255, 'ssh: connect to host h1 port 22: Connection refused');

function log() {
  const lines: string[] = [];
  return { lines, log: createLogger({ style: 'ci', sink: { err: (l) => lines.push(l), out: () => {} } }) };
}

test('a transient failure is retried with a log line each time, then succeeds', async () => {
  const { lines, log: l } = log();
  let n = 0;
  const out = await retrying(l, 'h1: connect', fast((e) => e instanceof CommandError && e.exitCode === 255), async () => {
    if (++n < 3) throw sshDown();
    return 'ok';
  });
  assert.equal(out, 'ok');
  assert.equal(n, 3);
  assert.deepEqual(lines.map((x) => x.replace(/\(2 left\)|\(1 left\)/, '')), [
    'WARN: h1: connect: attempt 1 failed (ssh: connect to host h1 port 22: Connection refused); retrying ',
    'WARN: h1: connect: attempt 2 failed (ssh: connect to host h1 port 22: Connection refused); retrying ',
  ]);
});

test('bounded: after the last retry the error surfaces', async () => {
  const { lines, log: l } = log();
  let n = 0;
  await assert.rejects(retrying(l, 'pull', fast(() => true), async () => { n++; throw sshDown(); }), CommandError);
  assert.equal(n, 3);
  assert.equal(lines.length, 2);
});

test('a non-transient failure is not retried', async () => {
  const { lines, log: l } = log();
  let n = 0;
  await assert.rejects(retrying(l, 'h1: connect', fast(() => false), async () => { n++; throw new CommandError(['ssh'], 1, 'remote failed'); }));
  assert.equal(n, 1);
  assert.deepEqual(lines, []);
});
