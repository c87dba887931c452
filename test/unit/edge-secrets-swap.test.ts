// setup's edge-secrets swap (run through sh on temp folders): a changed value is reported (Traefik
// must restart: lego read the old one), an unchanged or a new one is not; every file ends in place.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { edgeIncoming, swapEdgeSecrets } from '../../src/exec/edge-scripts.ts';

function swap(existing: Record<string, string>, incoming: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-edge-secrets-'));
  mkdirSync(edgeIncoming(dir));
  for (const [k, v] of Object.entries(existing)) writeFileSync(join(dir, k), v);
  for (const [k, v] of Object.entries(incoming)) writeFileSync(join(edgeIncoming(dir), k), v);
  const p = swapEdgeSecrets(dir);
  const r = spawnSync('sh', ['-c', p.script, 'sh', ...p.args], { encoding: 'utf8' });
  return { dir, out: r.stdout.trim(), code: r.status };
}

test('a changed value says so; the new values are in place and the incoming folder is gone', () => {
  const r = swap({ TOKEN: 'old', KEEP: 'same' }, { TOKEN: 'new', KEEP: 'same' });
  assert.deepEqual([r.code, r.out], [0, 'secrets-changed']);
  assert.equal(readFileSync(join(r.dir, 'TOKEN'), 'utf8'), 'new');
  assert.ok(!existsSync(edgeIncoming(r.dir)));
});

test('unchanged values, or a secret seen for the first time (its compose change recreates Traefik anyway), do not', () => {
  assert.equal(swap({ TOKEN: 'v' }, { TOKEN: 'v' }).out, 'secrets-same');
  const r = swap({}, { NEW: 'x' });
  assert.equal(r.out, 'secrets-same');
  assert.equal(readFileSync(join(r.dir, 'NEW'), 'utf8'), 'x');
});
