// Berth's own SSH master (hosts ~/.ssh/config does not multiplex) outlives a command in a socket
// directory only this user can enter; where that cannot be had, the ~/.ssh fallback.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { privateControlDir } from '../../src/app/docker-ssh.ts';
import { CONTROL_PATH, CONTROL_PERSIST, sshBaseArgv } from '../../src/docker/ssh.ts';

const tmp = mkdtempSync(join(tmpdir(), 'berth-cm-'));

test('the socket directory is created 700 under the state directory, and made 700 when it was not', async () => {
  const state = join(tmp, 'state');
  const dir = await privateControlDir({ BERTH_STATE_DIR: state });
  assert.equal(dir, join(state, 'ssh', 'cm'));
  assert.equal(statSync(dir!).mode & 0o777, 0o700);
  const loose = join(tmp, 'loose');
  mkdirSync(join(loose, 'ssh', 'cm'), { recursive: true });
  chmodSync(join(loose, 'ssh', 'cm'), 0o755);
  const fixed = await privateControlDir({ BERTH_STATE_DIR: loose });
  assert.equal(statSync(fixed!).mode & 0o777, 0o700, 'others could have reached the master');
});

test('no private directory (a path ssh would need quoted, too long for a socket, relative): the fallback', async () => {
  assert.equal(await privateControlDir({ BERTH_STATE_DIR: join(tmp, 'with space') }), undefined);
  assert.equal(await privateControlDir({ BERTH_STATE_DIR: join(tmp, 'x'.repeat(80)) }), undefined);
  assert.equal(await privateControlDir({ BERTH_STATE_DIR: 'relative/state' }), undefined);
});

test('ssh uses the private ControlPath and keeps the master after the command', () => {
  const t = { user: 'root', address: '203.0.113.10', port: 22 };
  const argv = sshBaseArgv({ ...t, controlPath: '/home/u/.local/state/berth/ssh/cm/%C' });
  assert.ok(argv.includes('ControlPath=/home/u/.local/state/berth/ssh/cm/%C'), argv.join(' '));
  assert.ok(argv.includes(`ControlPersist=${CONTROL_PERSIST}`));
  assert.ok(sshBaseArgv(t).includes(`ControlPath=${CONTROL_PATH}`));
  assert.ok(!sshBaseArgv({ ...t, configMultiplexes: true }).some((a) => a.startsWith('Control')), "the user's own master when ~/.ssh/config has one");
});
