import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReleaseGate, releaseScope } from '../../src/app/release-gate.ts';

test('per_host_volumes → every host; otherwise once', () => {
  assert.equal(releaseScope([]), 'once');
  assert.equal(releaseScope(['cache']), 'every');
});

test('once: hosts arriving together run the command one time and all learn where it ran', async () => {
  const gate = new ReleaseGate('once');
  let runs = 0;
  const fn = async () => {
    runs++;
    await new Promise((r) => setTimeout(r, 20));
  };
  const ranOn = await Promise.all(['h1', 'h2', 'h3'].map((h) => gate.run(h, fn)));
  assert.equal(runs, 1);
  assert.deepEqual(ranOn, ['h1', 'h1', 'h1']);
  assert.equal(await gate.run('h4', fn), 'h1', 'a later batch does not run it again');
  assert.equal(runs, 1);
});

test('once: a failure fails every host waiting on it', async () => {
  const gate = new ReleaseGate('once');
  const results = await Promise.allSettled(['h1', 'h2'].map((h) => gate.run(h, async () => { throw new Error(`migration failed on ${h}`); })));
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  assert.deepEqual(results.map((r) => (r as PromiseRejectedResult).reason.message), ['migration failed on h1', 'migration failed on h1']);
});

test('every: each host runs its own', async () => {
  const gate = new ReleaseGate('every');
  const seen: string[] = [];
  assert.deepEqual(await Promise.all(['h1', 'h2'].map((h) => gate.run(h, async () => void seen.push(h)))), ['h1', 'h2']);
  assert.deepEqual(seen.sort(), ['h1', 'h2']);
});
