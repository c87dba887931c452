// The launcher every npm script and the berth bin go through (src/cli/launch.mjs): it runs the
// bundled dispatcher, rebuilds the bundle when a source changes (into a new folder, so a running
// process keeps its own chunks), and refuses unknown commands in one line.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  const build = readFileSync(join(root, 'dist', 'scripts', 'current'), 'utf8').trim();
  const manifest = JSON.parse(readFileSync(join(root, 'dist', 'scripts', 'builds', build, 'manifest.json'), 'utf8')) as { inputs: Record<string, unknown> };
  assert.ok('scripts/berth.ts' in manifest.inputs && 'src/cli/parity.ts' in manifest.inputs, Object.keys(manifest.inputs).join(' '));
  // Packages are inside the bundle (resolving them on every start was most of it).
  assert.ok(Object.keys(manifest.inputs).some((f) => f.includes('node_modules/zod/')), 'zod is bundled');
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

test('the bundle is compiled from a V8 code cache per command, written by its first runs, then left alone', () => {
  assert.equal(launch('version').status, 0);
  const dir = join(root, 'dist', 'scripts', 'builds', readFileSync(join(root, 'dist', 'scripts', 'current'), 'utf8').trim());
  const caches = (cmd: string) => readdirSync(dir).filter((f) => f.startsWith(`berth.${cmd}.`) && f.endsWith('.cache'));
  for (const f of [...caches('version'), ...caches('help')]) rmSync(join(dir, f));
  const gens: number[] = [];
  for (let i = 0; i < 7; i++) {
    const r = launch('version');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(caches('version').length, 1, caches('version').join(' '));
    gens.push(Number(/\.g(\d+)\.cache$/.exec(caches('version')[0]!)![1]));
  }
  assert.deepEqual(gens, [1, 2, 3, 4, 5, 5, 5]);
  assert.deepEqual(caches('help'), [], 'another command has a cache of its own');
  assert.equal(launch('help').status, 0);
  assert.equal(caches('help').length, 1);
  // A failed run (a mistyped command) leaves no cache.
  assert.equal(launch('versoin').status, 2);
  assert.deepEqual(caches('versoin'), []);
  // A cache V8 refuses (a corrupt file, another V8) is replaced, and the command still runs.
  writeFileSync(join(dir, caches('version')[0]!), 'not a code cache');
  const r = launch('version');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^berth/);
  assert.match(caches('version')[0]!, /\.g1\.cache$/);
});

test('an unknown command is refused in one line, exit 2, no stack', () => {
  for (const name of ['nosuch', '../package', '-x']) {
    const r = launch(name);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('a rebuild never takes chunks from under a running process; old builds go once unused', async () => {
  // A script of its own (the launcher runs scripts/<name>.ts when there is one) that lazily imports
  // a module the dispatcher imports lazily too, so it is a shared chunk, only after it is told to.
  const go = join(root, 'go');
  writeFileSync(join(root, 'scripts', 'lazy.ts'), [
    "import { existsSync } from 'node:fs';",
    "process.stdout.write('waiting\\n');",
    `while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 50));`,
    "const m = await import('../src/cli/parity.ts');",
    "process.stdout.write(`loaded ${typeof m.versionCli}\\n`);",
  ].join('\n'));
  assert.equal(launch('version').status, 0);
  const first = readFileSync(join(root, 'dist', 'scripts', 'current'), 'utf8').trim();
  const child = spawn(process.execPath, [join(root, 'src', 'cli', 'launch.mjs'), 'lazy'], { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  for (let i = 0; i < 600 && !out.includes('waiting'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, /waiting/, err);
  const running = readFileSync(join(root, 'dist', 'scripts', 'current'), 'utf8').trim();
  // Edit the shared module: the next launch rebuilds, with new chunk names.
  const file = join(root, 'src', 'cli', 'parity.ts');
  writeFileSync(file, `${readFileSync(file, 'utf8')}\nexport const edited = 1;\n`);
  assert.equal(launch('version').status, 0);
  const second = readFileSync(join(root, 'dist', 'scripts', 'current'), 'utf8').trim();
  assert.notEqual(second, running, 'a new build folder');
  assert.ok(existsSync(join(root, 'dist', 'scripts', 'builds', running)), 'the running build stays while in use');
  writeFileSync(go, '');
  assert.equal(await exited, 0, `${out}\n${err}`);
  assert.match(out, /loaded function/);
  assert.ok(first);
  // Once retired for a while and unused, the next build removes it (the grace period, made past here).
  const retired = join(root, 'dist', 'scripts', 'builds', running, '.retired');
  assert.ok(existsSync(retired), 'the old build is marked retired');
  writeFileSync(retired, String(Date.now() - 3_600_000));
  writeFileSync(file, `${readFileSync(file, 'utf8')}\nexport const again = 2;\n`);
  assert.equal(launch('version').status, 0);
  assert.ok(!readdirSync(join(root, 'dist', 'scripts', 'builds')).includes(running), 'an unused retired build is pruned');
  rmSync(join(root, 'scripts', 'lazy.ts'));
});

test('a source written while the bundle was being built is rebuilt by the next launch, then trusted', async () => {
  const debugLaunch = () => spawnSync(process.execPath, [join(root, 'src', 'cli', 'launch.mjs'), 'version'], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, BERTH_DEBUG_LAUNCH: '1' } });
  const built = (r: ReturnType<typeof debugLaunch>) => {
    assert.equal(r.status, 0, r.stderr);
    return /building the bundle/.test(r.stderr);
  };
  const file = join(root, 'src', 'cli', 'parity.ts');
  // The edit lands right as a build starts: what esbuild read cannot be told from the file's stat.
  writeFileSync(file, `${readFileSync(file, 'utf8')}\nexport const raced = 1;\n`);
  assert.ok(built(debugLaunch()), 'the edit is built');
  const next = debugLaunch();
  assert.ok(built(next), `the build that may have raced the edit is not trusted: ${next.stderr}`);
  assert.match(next.stderr, /src\/cli\/parity\.ts changed since the build/);
  // Once the file is older than the build, the build is trusted: no rebuild on every launch.
  await new Promise((r) => setTimeout(r, 1200));
  built(debugLaunch());
  assert.equal(built(debugLaunch()), false, 'a settled build is reused');
});
