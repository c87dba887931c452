// The `transfer` bench scenario's pure figures: changed layers by chain ID, what docker push
// uploaded, docker save's layer sizes, and an iptables rule's byte count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changedLayers, parsePushOutput, pushedBytes, ruleBytes, savedBlobSizes } from '../../src/bench/transfer-figures.ts';

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;

test('changedLayers: by chain ID (a layer on another base is a new layer)', () => {
  assert.deepEqual(changedLayers([d('a'), d('b'), d('c')], [d('a'), d('b'), d('e')]), [2]);
  assert.deepEqual(changedLayers([d('a'), d('b'), d('c')], [d('a'), d('e'), d('c')]), [1, 2]);
  assert.deepEqual(changedLayers([d('a')], [d('a')]), []);
});

test('what docker push uploaded: only the layers it reports as Pushed, at their compressed size, plus the config', () => {
  const out = [
    'The push refers to repository [127.0.0.1:5000/transfer-bench/x/rails]',
    `${'a'.repeat(12)}: Layer already exists`,
    `${'b'.repeat(12)}: Mounted from transfer-bench/old/rails`,
    `${'c'.repeat(12)}: Pushed`,
    'v2: digest: sha256:0000 size: 1778',
  ].join('\n');
  const st = parsePushOutput(out);
  assert.deepEqual([...st.values()], ['exists', 'mounted', 'pushed']);
  assert.deepEqual(pushedBytes(st, [d('a'), d('b'), d('c')], { config: { size: 100 }, layers: [{ size: 1 }, { size: 2 }, { size: 30 }] }), { bytes: 130, pushed: 1, skipped: 2 });
});

test('savedBlobSizes reads tar -tv of docker save; ruleBytes reads iptables -L -v -x', () => {
  const listing = `-rw-r--r-- 0/0           52736 2026-12-07 00:52 blobs/sha256/${'2'.repeat(64)}\n-rw-r--r-- 0/0 355 2026-12-07 01:38 index.json`;
  assert.deepEqual([...savedBlobSizes(listing)], [[d('2'), 52736]]);
  const ipt = [
    'Chain INPUT (policy ACCEPT 0 packets, 0 bytes)',
    ' pkts bytes target     prot opt in     out     source               destination',
    '  120 98765            6    --  eth0   *       0.0.0.0/0            0.0.0.0/0            tcp dpt:22 /* berth-bench-ssh */',
  ].join('\n');
  assert.equal(ruleBytes(ipt, 'berth-bench-ssh'), 98765);
  assert.ok(Number.isNaN(ruleBytes(ipt, 'other')));
});
