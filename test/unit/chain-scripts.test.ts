// chainScripts: two host scripts in one round trip (the lock and the deploy's locked observation).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { chainScripts, thenOutput } from '../../src/exec/host-scripts.ts';

const sh = (p: { script: string; args: string[] }) => spawnSync('sh', ['-c', p.script, 'berth', ...p.args], { encoding: 'utf8' });

test('each part sees only its own arguments; the second output follows the marker', () => {
  const a = { script: 'set -eu; printf "a:%s|" "$@"; echo', args: ['x y', '$(boom)'] };
  const b = { script: 'printf "b:%s|" "$@"; echo', args: ['1', "it's"] };
  const r = sh(chainScripts(a, b));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "a:x y|a:$(boom)|\n--then\nb:1|b:it's|\n");
  assert.equal(thenOutput(r.stdout), "b:1|b:it's|\n");
});

test('a failing first part stops the chain with its own exit code; exit inside a part ends only that part', () => {
  const r = sh(chainScripts({ script: 'echo held; exit 3', args: [] }, { script: 'echo never', args: [] }));
  assert.equal(r.status, 3);
  assert.equal(thenOutput(r.stdout), undefined);
  const ok = sh(chainScripts({ script: 'echo acquired; exit 0', args: ['l'] }, { script: 'echo "--current"; exit 0', args: [] }));
  assert.equal(ok.status, 0);
  assert.equal(thenOutput(ok.stdout), '--current\n');
});
