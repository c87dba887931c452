import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostBatches } from '../../src/plan/host-batches.ts';

test('no batch size: every host in one batch', () => {
  assert.deepEqual(hostBatches(['h1', 'h2', 'h3'], undefined), [['h1', 'h2', 'h3']]);
});

test('batch size cuts the hosts in order, the last batch holds the rest', () => {
  assert.deepEqual(hostBatches(['h1', 'h2', 'h3'], 2), [['h1', 'h2'], ['h3']]);
  assert.deepEqual(hostBatches(['h1', 'h2', 'h3'], 1), [['h1'], ['h2'], ['h3']]);
  assert.deepEqual(hostBatches(['h1', 'h2'], 5), [['h1', 'h2']]);
});

test('a fleet certificate issuer deploys alone first, the others follow in batches', () => {
  assert.deepEqual(hostBatches(['h1', 'h2', 'h3'], undefined, 'h1'), [['h1'], ['h2', 'h3']]);
  assert.deepEqual(hostBatches(['h2', 'h1', 'h3'], 1, 'h1'), [['h1'], ['h2'], ['h3']]);
  // --hosts left the issuer out: nothing to put first
  assert.deepEqual(hostBatches(['h2', 'h3'], undefined, 'h1'), [['h2', 'h3']]);
  // one host: the issuer is simply the batch
  assert.deepEqual(hostBatches(['h1'], undefined, 'h1'), [['h1']]);
});

test('no hosts: no batches', () => {
  assert.deepEqual(hostBatches([], 3), []);
});
