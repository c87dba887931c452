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

test('three parts in one round trip (lock, release files, retire cancel): the last part splits off at the LAST marker', async () => {
  const { splitLastThen } = await import('../../src/exec/host-scripts.ts');
  const lock = { script: 'echo acquired', args: ['l'] };
  // A release whose printed text holds the marker itself (a secret value may hold anything).
  const read = { script: 'printf "SECRET=a\\n--then\\nb\\n--tar--\\nQUJD\\n"', args: [] };
  const check = { script: 'echo "true healthy"', args: ['pid', 'id'] };
  const r = sh(chainScripts(lock, chainScripts(read, check)));
  assert.equal(r.status, 0, r.stderr);
  const both = thenOutput(r.stdout)!;
  assert.deepEqual(splitLastThen(both), { first: 'SECRET=a\n--then\nb\n--tar--\nQUJD\n', then: 'true healthy\n' });
  // The release read failing stops there: the lock's script fails with its code, nothing else runs.
  const failed = sh(chainScripts(lock, chainScripts({ script: 'exit 4', args: [] }, check)));
  assert.equal(failed.status, 4);
  assert.doesNotMatch(failed.stdout, /healthy/);
  assert.deepEqual(splitLastThen('no marker\n'), { first: 'no marker\n' });
});

test('a first part that prints nothing, then a chain: the split is at the first marker', () => {
  const inner = chainScripts({ script: 'echo scheduled', args: [] }, { script: 'echo released', args: [] });
  const r = sh(chainScripts({ script: 'true', args: [] }, inner));
  assert.equal(r.stdout, '--then\nscheduled\n--then\nreleased\n');
  assert.equal(thenOutput(r.stdout), 'scheduled\n--then\nreleased\n');
  assert.equal(thenOutput(thenOutput(r.stdout)!), 'released\n');
});
