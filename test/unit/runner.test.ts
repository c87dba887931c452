// The runner's collected path spawns the argv directly (no shell in between): what a shell used
// to give for free (exit codes, a missing program, stdin, quoting) must still hold.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { CommandError } from '../../src/errors.ts';
import { createRunner } from '../../src/docker/runner.ts';

const sh = (script: string, ...args: string[]) => ({ argv: ['sh', '-c', script, 'sh', ...args], mutates: false });

test('stdout, stderr and the exit code come back; arguments reach the program untouched by any shell', async () => {
  const r = await createRunner().run(sh('printf "%s|" "$@"; echo oops >&2; exit 3', '$HOME', "it's", 'a b', '`id`'), { allowFailure: true });
  assert.equal(r.stdout, "$HOME|it's|a b|`id`|");
  assert.equal(r.stderr, 'oops\n');
  assert.equal(r.exitCode, 3);
});

test('a failing command throws CommandError unless allowFailure', async () => {
  await assert.rejects(createRunner().run(sh('echo nope >&2; exit 2')), (e: unknown) => e instanceof CommandError && /nope/.test(e.message));
});

test('input and a stdin stream reach the program', async () => {
  const runner = createRunner();
  assert.equal((await runner.run({ ...sh('cat'), input: 'from input' })).stdout, 'from input');
  assert.equal((await runner.run(sh('wc -c'), { stdinStream: Readable.from([Buffer.alloc(70_000, 120)]) })).stdout.trim(), '70000');
});

test('a program that is not installed exits 127 with its name in stderr (as a shell said), not a throw', async () => {
  const r = await createRunner().run({ argv: ['berth-no-such-program', 'x'], mutates: false }, { allowFailure: true });
  assert.equal(r.exitCode, 127);
  assert.match(r.stderr, /berth-no-such-program/);
});

test('a timeout ends the command with SIGTERM (exit 143)', async () => {
  const t0 = Date.now();
  const r = await createRunner().run(sh('sleep 5'), { allowFailure: true, timeoutMs: 200 });
  assert.equal(r.exitCode, 143);
  assert.ok(Date.now() - t0 < 3000);
});

test('a multi-byte character split across reads is decoded whole', async () => {
  // 65536 bytes of "a" then "é": the pipe's first read ends inside no character only by luck.
  const r = await createRunner().run(sh('head -c 65535 /dev/zero | tr "\\0" a; printf "\\303\\251"'));
  assert.equal(r.stdout.length, 65536);
  assert.equal(r.stdout.at(-1), 'é');
});

test('a child that exits without reading stdin does not crash the runner (EPIPE)', async () => {
  const r = await createRunner().run({ ...sh('exit 0'), input: 'x'.repeat(1 << 20) });
  assert.equal(r.exitCode, 0);
});
