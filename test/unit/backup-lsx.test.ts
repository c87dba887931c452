// The host scripts run `litestream <args>` inside the replicator through `lsx`, which exports the
// mounted credentials first. Its arguments must reach litestream intact (a quoting slip once dropped
// them, so every `litestream sync <db>` failed with "database path required").
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPLICATOR } from '../../src/exec/backup-scripts.ts';

test('lsx passes every argument to litestream in the container, spaces included', () => {
  const bin = mkdtempSync(join(tmpdir(), 'berth-lsx-'));
  // `docker exec <container> cmd…` runs cmd here; `timeout N cmd…` runs cmd; litestream prints its argv.
  writeFileSync(join(bin, 'docker'), '#!/bin/sh\n[ "$1" = exec ] || exit 9\nshift 2\nexec "$@"\n');
  writeFileSync(join(bin, 'timeout'), '#!/bin/sh\nshift\nexec "$@"\n');
  writeFileSync(join(bin, 'litestream'), '#!/bin/sh\nfor a in "$@"; do printf "[%s]" "$a"; done\n');
  for (const f of ['docker', 'timeout', 'litestream']) chmodSync(join(bin, f), 0o755);
  const out = execFileSync('sh', ['-c', `${REPLICATOR}\nlsx 20 c1 sync -wait -timeout 15 "/data/my db.sqlite3"`], {
    env: { PATH: `${bin}:/usr/bin:/bin` },
    encoding: 'utf8',
  });
  assert.equal(out, '[sync][-wait][-timeout][15][/data/my db.sqlite3]');
});
