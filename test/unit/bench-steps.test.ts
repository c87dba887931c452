// The bench survives its scenarios: a failing one is reported and the next runs; a stray stream
// error or rejected promise is pinned on the scenario that caused it; partial results after each.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

test('failing scenarios are reported, the rest still run, partial results after each', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'bench-steps-child.ts')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ran: string[]; partial: string[]; errors: string[]; listeners: number };
  assert.deepEqual(out.ran, ['a', 'b', 'c', 'd']);
  assert.equal(out.errors[0], 'b: deploy failed');
  assert.ok(out.errors.some((e) => /^c: late rejection/.test(e)), out.errors.join('\n'));
  assert.ok(out.errors.some((e) => /^c: write EPIPE/.test(e)), out.errors.join('\n'));
  assert.deepEqual(out.partial, ['a', 'b', 'c', 'd']);
  assert.equal(out.listeners, 0, 'handlers removed afterwards');
});
