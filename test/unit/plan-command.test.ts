// The plan command end to end on throwaway project roots (child processes: the CLI exits).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function tempProject(): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-plan-'));
  roots.push(root);
  for (const p of ['apps', 'shared', 'hosts.json']) cpSync(join(repo, p), join(root, p), { recursive: true });
  return root;
}

function runPlan(root: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'scripts', 'berth.ts'), 'plan', ...args], {
    cwd: repo,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, BERTH_ROOT: root, ...env },
    encoding: 'utf8',
  });
}

const allFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)]));

test('secret values never reach compose/ or the output', () => {
  const root = tempProject();
  const secrets: Record<string, string> = {
    BERTH_SECRET_RAILS_MASTER_KEY: 'rmk-7f3e9c1d2b4a',
    LITESTREAM_ACCESS_KEY_ID: 'AKIA-litestream-xyz',
    BERTH_SECRET_LITESTREAM_SECRET_ACCESS_KEY: 'ls-secret-Qw8Zp1',
    POSTGRES_PASSWORD: 'pg-pass-Hk29sLm',
    CF_DNS_API_TOKEN: 'cf-token-Zq81Lx',
    DATABASE_URL: 'postgres://zen:db-pw-99x@db.example/zen',
  };
  for (const args of [[], ['--json'], ['wombatworkouts', '--release', 'v9']]) {
    const r = runPlan(root, args, secrets);
    assert.equal(r.status, 0, r.stderr);
    const output = r.stdout + r.stderr;
    for (const v of Object.values(secrets)) assert.ok(!output.includes(v), `output of plan ${args.join(' ')} contains a secret value`);
  }
  const files = allFiles(join(root, 'compose'));
  assert.ok(files.length >= 10);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const v of Object.values(secrets)) assert.ok(!text.includes(v), `${f} contains a secret value`);
  }
});

test('plan writes compose/, reports changes, and --json is machine-readable', () => {
  const root = tempProject();
  const first = runPlan(root, ['zen_miner', '--release', 'r1', '--json']);
  assert.equal(first.status, 0, first.stderr);
  const report = JSON.parse(first.stdout);
  assert.deepEqual(report.files.map((f: { path: string; status: string }) => `${f.status} ${f.path}`), [
    'added compose/edge/compose.yml',
    'added compose/edge/traefik.yml',
    'added compose/zen_miner/compose.yml',
    'added compose/zen_miner/routing.blue.yml',
    'added compose/zen_miner/routing.green.yml',
  ]);
  assert.equal(report.apps[0].release, 'r1');
  assert.equal(report.apps[0].releaseSource, 'flag');
  assert.deepEqual(report.apps[0].hosts, ['web1']);
  // plan never runs a secret command; it says where each value would come from.
  assert.deepEqual(
    report.apps[0].secrets.map((s: { name: string; source: string }) => `${s.name}:${s.source}`),
    ['KAMAL_REGISTRY_PASSWORD:missing', 'RAILS_MASTER_KEY:command'],
  );

  const again = runPlan(root, ['zen_miner', '--release', 'r2']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /~ compose\/zen_miner\/compose\.yml changed/);
  assert.match(again.stdout, /- +image: docker\.io\/zenminer\/zen_miner:r1/);
  assert.match(again.stdout, /\+ +image: docker\.io\/zenminer\/zen_miner:r2/);
  assert.match(again.stdout, /= compose\/zen_miner\/routing\.blue\.yml unchanged/);
  assert.match(again.stdout, /RAILS_LOG_LEVEL=…/);
  assert.match(again.stdout, /No server was contacted/);

  const check = runPlan(root, ['zen_miner', '--release', 'r3', '--check']);
  assert.equal(check.status, 3, 'drift is exit 3 (2 is a usage error)');
  assert.match(readFileSync(join(root, 'compose/zen_miner/compose.yml'), 'utf8'), /zen_miner:r2/, '--check writes nothing');
});

test('plan never takes the release from git: a built image renders "build-context", a pulled one its tag or "latest"', () => {
  const root = tempProject();
  const r = runPlan(root, ['zen_miner', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual([JSON.parse(r.stdout).apps[0].release, JSON.parse(r.stdout).apps[0].releaseSource], ['build-context', 'build context']);
  const before = readFileSync(join(root, 'compose/zen_miner/compose.yml'), 'utf8');
  // A commit in the project (Berth's own HEAD moving) changes nothing in compose/.
  spawnSync('git', ['init', '-q'], { cwd: root });
  spawnSync('git', ['add', '-A'], { cwd: root });
  spawnSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-q', '-m', 'x'], { cwd: root });
  const g = runPlan(root, ['zen_miner', '--check', '--json']);
  assert.equal(g.status, 0, g.stdout);
  assert.equal(JSON.parse(g.stdout).apps[0].release, 'build-context');
  spawnSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'y'], { cwd: root });
  assert.equal(runPlan(root, ['zen_miner', '--check']).status, 0, 'a new HEAD does not make compose/ stale');
  assert.equal(readFileSync(join(root, 'compose/zen_miner/compose.yml'), 'utf8'), before);
  // A tag written in the image is used as is.
  const cal = join(root, 'apps/running_calendar/app.yml');
  writeFileSync(cal, readFileSync(cal, 'utf8').replace(/^image: (.*)$/m, 'image: $1:2.4.1'));
  const t = runPlan(root, ['running_calendar', '--json']);
  assert.equal(JSON.parse(t.stdout).apps[0].release, '2.4.1');
});

test('an unknown key fails with file and key named, and nothing is written', () => {
  const root = tempProject();
  writeFileSync(join(root, 'apps/zen_miner/app.yml'), readFileSync(join(root, 'apps/zen_miner/app.yml'), 'utf8') + '\nportt: 3000\n');
  const r = runPlan(root, ['zen_miner']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /ERROR \(ConfigError\)/);
  assert.match(r.stderr, /apps\/zen_miner\/app\.yml.*portt/);
  assert.throws(() => readdirSync(join(root, 'compose')), /ENOENT/);
});

test('an unknown app or flag is an error', () => {
  const root = tempProject();
  const app = runPlan(root, ['nope']);
  assert.equal(app.status, 2, 'an app that does not exist is a usage error');
  assert.match(app.stderr, /nope/);
  const flag = runPlan(root, ['--bogus']);
  assert.equal(flag.status, 2); // a usage error, like every command (test/unit/cli-usage.test.ts)
  assert.match(flag.stderr, /^ERROR \(UsageError\): unknown flag --bogus; usage: berth plan/);
});
