// A rollback reads current.json again in its lock's round trip (withCurrent): a deploy that
// finished between its observation and its lock must be seen, not acted on with a stale plan.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { currentOf } from '../../src/app/rollback.ts';
import { scriptParts } from '../../src/exec/host-scripts.ts';

function run(current: string | undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-guard-'));
  if (current !== undefined) writeFileSync(join(dir, 'current.json'), current);
  writeFileSync(join(dir, 'retire.pid'), '999999999\n');
  const part = scriptParts.withCurrent(join(dir, 'current.json'), scriptParts.cancelRetire(join(dir, 'retire.pid')));
  const r = spawnSync('sh', ['-c', part.script, 'sh', ...part.args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, pidfileLeft: existsSync(join(dir, 'retire.pid')) };
}

test('the lock trip part prints current.json (as Berth writes it, pretty-printed) before the cancel, which still runs with its own arguments', () => {
  const record = { release: 'v3-abc', colour: 'blue', previous: { release: 'v2-def', colour: 'green' }, switchedAt: '2026-12-07T20:00:00.000Z' };
  const r = run(JSON.stringify(record, null, 2) + '\n');
  assert.equal(r.code, 0);
  assert.deepEqual(currentOf(r.out), record);
  // The pid file was the cancel's $1 after the shift: it was read (the kill failed on a dead pid) and removed.
  assert.equal(r.pidfileLeft, false);
  assert.match(r.out, /^current \{/);
});

test('no current.json: the line is empty and currentOf says so', () => {
  const r = run(undefined);
  assert.equal(r.code, 0);
  assert.equal(currentOf(r.out), undefined);
});

test('currentOf takes the top-level release and colour, not the previous ones', () => {
  assert.deepEqual(currentOf('x\ncurrent {"release":"a","colour":"green","previous":{"release":"b","colour":"blue"}}\ntrue healthy\n'), {
    release: 'a', colour: 'green', previous: { release: 'b', colour: 'blue' },
  });
  assert.equal(currentOf('current {"release":'), undefined);
});
