// --dry-run lives in the one runner seam: reads run, mutating commands are reported, not run.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeCmd } from '../../src/cli/deps.ts';
import { read, write } from '../../src/docker/command.ts';
import { createRunner } from '../../src/docker/runner.ts';
import { sshScript } from '../../src/docker/ssh.ts';

test('dry run: a mutating command is reported and not run; a read runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-dry-'));
  const seen: string[] = [];
  const r = createRunner({ dryRun: true, onDryRun: (line) => seen.push(line) });
  assert.equal(r.dryRun, true);
  const w = await r.run(write(['touch', join(dir, 'written')]));
  assert.equal(w.dryRun, true);
  assert.equal(existsSync(join(dir, 'written')), false, 'nothing written');
  assert.deepEqual(seen, [`touch ${join(dir, 'written')}`]);
  const rd = await r.run(read(['echo', 'observed']));
  assert.equal(rd.stdout, 'observed\n');
  assert.equal(rd.dryRun, undefined);
  assert.equal(r.count, 1, 'only the read spawned a process');
});

test('a host script is described by its first line, never its stdin', () => {
  const cmd = sshScript({ user: 'root', address: '203.0.113.1', port: 22 }, '\nset -eu\n# why\ncat > "$1"; chmod 600 "$1"\n', ['/etc/x'], { input: 'SECRET' });
  const text = describeCmd('ignored', cmd);
  assert.match(text, /^ssh root@203\.0\.113\.1: cat > "\$1"; chmod 600 "\$1" \(with data on stdin\)$/);
  assert.doesNotMatch(text, /SECRET/);
});
