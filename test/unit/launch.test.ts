// The launcher every npm script goes through (src/cli/launch.mjs): it runs the bundled script,
// rebuilds the bundle when a source changes, and refuses unknown scripts in one line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../../src/sandbox/paths.ts';

// A copy of the repository's code (node_modules linked), so the test can edit sources freely.
const root = mkdtempSync(join(tmpdir(), 'berth-launch-'));
after(() => rmSync(root, { recursive: true, force: true }));
for (const d of ['src', 'scripts', 'test', 'package.json']) cpSync(join(REPO_ROOT, d), join(root, d), { recursive: true });
symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));

const launch = (...args: string[]) => spawnSync(process.execPath, [join(root, 'src', 'cli', 'launch.mjs'), ...args], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } });

test('a script runs from the bundle, with its own arguments', () => {
  const r = launch('version');
  assert.equal(r.status, 0, r.stderr);
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  assert.match(r.stdout, new RegExp(`^berth ${version.replace(/\./g, '\\.')} `));
  const manifest = JSON.parse(readFileSync(join(root, 'dist', 'scripts', 'manifest.json'), 'utf8')) as { inputs: Record<string, unknown> };
  assert.ok('scripts/version.ts' in manifest.inputs && 'src/cli/parity.ts' in manifest.inputs, Object.keys(manifest.inputs).join(' '));
  const bad = launch('deploy', '--no-such-flag');
  assert.equal(bad.status, 2, bad.stderr);
});

test('a changed source is rebuilt before the next run', () => {
  assert.equal(launch('version').status, 0);
  const file = join(root, 'src', 'cli', 'parity.ts');
  writeFileSync(file, readFileSync(file, 'utf8').replace('`berth ${', '`berth-edited ${'));
  const r = launch('version');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^berth-edited /);
});

test('an app.config.ts is read by the bundled CLI too (tsx registered on demand)', () => {
  const r = spawnSync(process.execPath, [join(root, 'src', 'cli', 'launch.mjs'), 'config', 'tsapp', '--json'], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, BERTH_ROOT: join(root, 'test', 'fixtures', 'config', 'formats'), BERTH_HOSTS_FILE: 'hosts.staging.json' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /hello from ts\.example\.com/);
});

test('an unknown script is refused in one line, exit 2, no stack', () => {
  for (const name of ['nosuch', '../package', '']) {
    const r = launch(name);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
