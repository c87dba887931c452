// `npm run demo`, then every command README's first section says to try, exactly as printed there
// (run by a shell from the repository root), and a second demo that changes nothing.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../../src/sandbox/paths.ts';
import { resetApps } from './support/project.ts';

/** The shell lines of README's "Then try:" block. */
function readmeNextCommands(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('Then try:');
  assert.ok(at > 0, 'README has a "Then try:" block');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, 'a sh code block follows "Then try:"');
  return block[1]!.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** One README line through sh in the repository root, as a user types it (bounded to 5 minutes). */
function sh(line: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', line], { cwd: REPO_ROOT, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, out });
    });
  });
}

after(() => resetApps(['wombatworkouts']));

test('npm run demo serves the example over HTTPS; every command README offers next works as printed', async () => {
  const demo = await sh('npm run -s demo');
  assert.equal(demo.code, 0, demo.out);
  assert.match(demo.out, /wombatworkouts is live: https:\/\/wombatworkouts\.berth\.test\//);
  assert.match(demo.out, /GET \/ → 200/);
  assert.match(demo.out, /backup:verify: the latest replica restores and matches/);

  const lines = readmeNextCommands();
  assert.ok(lines.length >= 4, lines.join('\n'));
  for (const line of lines) {
    const r = await sh(line);
    assert.equal(r.code, 0, `${line}\n${r.out}`);
  }
  const status = execFileSync('sh', ['-c', 'BERTH_ROOT=examples/sandbox npm run -s status -- wombatworkouts --json'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.ok(JSON.parse(status).some((row: { app?: string }) => row.app === 'wombatworkouts'), status);
});

test('a second demo changes nothing: the same secrets, the same release, no container replaced', async () => {
  const live = () => {
    const row = (JSON.parse(execFileSync('sh', ['-c', 'BERTH_ROOT=examples/sandbox npm run -s status -- wombatworkouts --json'], { cwd: REPO_ROOT, encoding: 'utf8' })) as { release: string; colour: string }[])[0]!;
    const id = execFileSync('docker', ['--context', 'berth-sandbox-h1', 'ps', '-q', '--filter', 'label=berth.app=wombatworkouts', '--filter', `label=berth.colour=${row.colour}`, '--filter', 'label=com.docker.compose.service=web-' + row.colour], { encoding: 'utf8' }).trim();
    return `${row.release} ${row.colour} ${id}`;
  };
  // After the README's rollback the live release is the demo's own again.
  const before = live();
  const again = await sh('npm run -s demo');
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /nothing changed/);
  assert.equal(live(), before, 'same release, same colour, same container');
});
