// Release retention (which releases a host may forget), the audit trail's format, and which
// services a rollback brings back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHistory, parseHistory } from '../../src/exec/history.ts';
import { parseObservation, type ReleaseRecord } from '../../src/exec/state.ts';
import { releaseServices } from '../../src/app/release-services.ts';
import { afterDeploy, planPrune } from '../../src/plan/prune-plan.ts';

const rec = (n: number, extra: Partial<ReleaseRecord> = {}): ReleaseRecord => ({
  id: `r${n}-h`, app: 'shop', tag: `r${n}`, image: `shop:r${n}`, colour: n % 2 ? 'blue' : 'green', configHash: 'h', secretsHash: 'S',
  createdAt: `2026-01-${String(n).padStart(2, '0')}T00:00:00Z`, host: 'h1', ...extra,
});
const ps = (id: string) => JSON.stringify({ ID: id, Names: 'x', State: 'exited', Status: 'Exited (0)', Labels: 'com.docker.compose.service=web-blue' });
const state = (releases: ReleaseRecord[], current: string, previous: string | null, containers: string[] = []) =>
  parseObservation(['--current', JSON.stringify({ release: current, colour: 'blue', previous: previous ? { release: previous, colour: 'green' } : null, switchedAt: 'x' }), '--releases', ...releases.map((r) => JSON.stringify(r)), '--containers', ...containers.map(ps), '--end'].join('\n'));

test('keeps the newest keep_releases, prunes older ones and the images only they used', () => {
  const rs = [1, 2, 3, 4, 5, 6, 7].map((n) => rec(n));
  const p = planPrune(state(rs, 'r7-h', 'r6-h'), 3);
  assert.deepEqual(p.kept, ['r7-h', 'r6-h', 'r5-h']);
  assert.deepEqual(p.pruned, ['r4-h', 'r3-h', 'r2-h', 'r1-h']);
  assert.deepEqual(p.images, ['shop:r4', 'shop:r3', 'shop:r2', 'shop:r1']);
  assert.deepEqual(planPrune(state(rs, 'r7-h', 'r6-h'), 3, false).images, [], 'an image that cannot be had again stays');
});

test('never prunes the live release, the previous one, or a release whose container still exists', () => {
  const rs = [rec(1, { containerId: 'c1c1c1c1c1c1' }), rec(2), rec(3), rec(4), rec(5), rec(6)];
  // Rolled back: live is an old release, previous the newest.
  const p = planPrune(state(rs, 'r2-h', 'r6-h', ['c1c1c1c1c1c1']), 2);
  for (const id of ['r2-h', 'r6-h', 'r1-h']) assert.ok(p.kept.includes(id), `${id} kept`);
  assert.deepEqual(p.pruned.sort(), ['r3-h', 'r4-h'], 'r5 is the second newest: kept');
});

test('an image shared with a kept release stays; keep is at least 2; unsafe ids are never paths', () => {
  const rs = [rec(1, { image: 'shop:v1' }), rec(2, { image: 'shop:v1' }), rec(3, { image: 'shop:v1' }), rec(4, { id: '../../etc' })];
  const p = planPrune(state(rs, 'r3-h', 'r2-h'), 0);
  assert.deepEqual(p.pruned, ['r1-h']);
  assert.deepEqual(p.images, [], 'shop:v1 is still used by r2 and r3');
  assert.ok(p.kept.includes('../../etc') && !p.pruned.includes('../../etc'));
});

test('after a deploy the new release is live and the old live one is the protected previous', () => {
  const rs = [1, 2, 3, 4].map((n) => rec(n));
  const s = afterDeploy(state(rs, 'r4-h', 'r3-h'), rec(5), 'r4-h');
  const p = planPrune(s, 2);
  assert.deepEqual(p.kept, ['r5-h', 'r4-h']);
  assert.deepEqual(p.pruned, ['r3-h', 'r2-h', 'r1-h']);
});

test('history: JSON lines in, torn lines skipped, one readable line per entry out', () => {
  const e = { at: '2026-12-01T10:00:00.123Z', app: 'shop', host: 'h1', action: 'deploy', outcome: 'failed', user: 'ana', machine: 'laptop', release: 'v2-abc', error: 'release command failed\nmore' };
  const parsed = parseHistory(`${JSON.stringify(e)}\n{"at": "torn\n\n`);
  assert.equal(parsed.length, 1);
  const text = formatHistory('h1', parsed);
  assert.match(text, /^h1:\n  2026-12-01T10:00:00Z +deploy +failed +v2-abc +by ana@laptop error: release command failed$/m);
  assert.equal(formatHistory('h2', []), 'h2: no history yet');
});

test('rollback brings back workers, the replicator and backup loops, not databases or web colours', () => {
  const yml = 'services:\n  web-blue: {}\n  web-green: {}\n  worker-jobs: {}\n  litestream: {}\n  postgres: {}\n  postgres-backup: {}\n';
  assert.deepEqual(releaseServices(yml), ['worker-jobs', 'litestream', 'postgres-backup']);
});
