// No unhandled stream error: writing stdin to a child that exits at once (ssh losing its
// connection, a script that fails early) must give its exit code, never crash the process (EPIPE).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { createRunner } from '../../src/docker/runner.ts';
import { run } from '../../src/sandbox/proc.ts';

const big = Buffer.alloc(8 << 20, 'x'); // far more than a pipe buffer: the write must hit EPIPE

test('runner: input to a child that exits at once → its exit code', async () => {
  const r = createRunner();
  for (let i = 0; i < 3; i++) {
    const res = await r.run({ argv: ['sh', '-c', 'exit 3'], mutates: false, input: big }, { allowFailure: true });
    assert.equal(res.exitCode, 3);
  }
});

test('runner: a stdin stream to a child that exits at once → its exit code', async () => {
  const r = createRunner();
  for (let i = 0; i < 3; i++) {
    const res = await r.run({ argv: ['sh', '-c', 'exit 4'], mutates: false }, { allowFailure: true, stdinStream: Readable.from([big, big]) });
    assert.equal(res.exitCode, 4);
  }
});

test('runner: input still reaches a child that reads it', async () => {
  const r = createRunner();
  assert.equal((await r.run({ argv: ['cat'], mutates: false, input: 'hello' })).stdout, 'hello');
  assert.equal((await r.run({ argv: ['cat'], mutates: false }, { stdinStream: Readable.from(['a', 'b']) })).stdout, 'ab');
});

test('sandbox proc helper: input to a child that exits at once → its exit code', async () => {
  for (let i = 0; i < 3; i++) {
    const res = await run(['sh', '-c', 'exit 5'], { input: big.toString(), allowFail: true });
    assert.equal(res.code, 5);
  }
});
