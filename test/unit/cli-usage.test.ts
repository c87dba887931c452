// Every command reports a bad flag or argument as one line naming it and the usage, exits 2,
// and never prints a JavaScript stack; unexpected errors are one line pointing at --verbose.
// Child processes (the CLI exits), on an empty project root so nothing real is touched.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeParseError } from '../../src/cli/args.ts';
import { COMMANDS, findCommand } from '../../src/cli/table.ts';
import { checkRelease } from '../../src/config/release.ts';
import { formatError, UsageError } from '../../src/errors.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const root = mkdtempSync(join(tmpdir(), 'berth-usage-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Run { code: number; stdout: string; stderr: string }

/** A project `berth init` made (one host web1, one app web), for names that do not exist in it. */
const initProject = join(root, 'project');

function run(args: string[], projectRoot = root): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', ...args], {
      cwd: repo,
      env: { PATH: process.env.PATH, HOME: root, BERTH_ROOT: projectRoot, CI: '1' },
      timeout: 60_000,
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
}

/** At most `n` child processes at once (two cores, shared). */
async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) {
      const k = i++;
      out[k] = await fn(items[k]!);
    }
  }));
  return out;
}

/** Every command in the table, and every npm script (each runs its own scripts/<name>.mjs, which names one). */
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
const scripts = Object.entries(pkg.scripts)
  .map(([name, cmd]) => ({ name, m: /^(?:flock \S+ )?node (scripts\/[a-z0-9-]+\.mjs)$/.exec(cmd) }))
  .filter((e) => e.m)
  .map((e) => {
    const file = e.m![1]!;
    const text = readFileSync(join(repo, file), 'utf8');
    const command = /^process\.argv\.splice\(2, 0, '([a-z_][a-z0-9_:-]*)'\);\nawait import\('\.\.\/src\/cli\/launch\.mjs'\);$/m.exec(text)?.[1] ?? `(${file} names no command)`;
    return { name: e.name, file, command };
  });

const noStack = (text: string) => assert.doesNotMatch(text, /^\s+at /m, `a stack trace:\n${text}`);

function assertUsage(r: Run, name: string, mentions: RegExp) {
  assert.equal(r.code, 2, `${name}: exit ${r.code}\n${r.stderr}`);
  noStack(r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `${name}: one line expected:\n${r.stderr}`);
  assert.match(lines[0]!, /^ERROR \(UsageError\): /);
  assert.match(lines[0]!, mentions, `${name}: ${lines[0]}`);
  assert.match(lines[0]!, /usage: berth /, `${name}: no usage in ${lines[0]}`);
}

describe('bad flags on every command', () => {
  // Build the launcher's bundle once, not in four processes at once.
  before(async () => {
    assert.equal((await run(['src/cli/launch.mjs', 'version'])).code, 0);
    const init = await run(['src/cli/launch.mjs', 'init', initProject]);
    assert.equal(init.code, 0, init.stderr);
  });
  it('package.json: the berth bin is the launcher; every npm script has its scripts/ entry naming a table command, every command has its npm script', () => {
    assert.equal(pkg.bin.berth, 'src/cli/launch.mjs');
    assert.deepEqual(scripts.filter((s) => !findCommand(s.command)).map((s) => s.name), [], 'npm scripts naming no command');
    assert.deepEqual(scripts.filter((s) => s.name !== findCommand(s.command)!.name).map((s) => s.name), [], 'an npm script named unlike its command');
    const missing = COMMANDS.filter((c) => !c.hidden && !scripts.some((s) => s.command === c.name)).map((c) => c.name);
    assert.deepEqual(missing, [], 'commands without an npm script');
    assert.deepEqual(scripts.filter((s) => s.file !== `scripts/${s.name.replace(/:/g, '-')}.mjs`).map((s) => s.name), [], 'one entry per npm script, named for it');
    const entries = readdirSync(join(repo, 'scripts')).filter((f) => f !== 'berth.ts').map((f) => `scripts/${f}`).sort();
    assert.deepEqual(entries, scripts.map((s) => s.file).sort(), 'every file in scripts/ is an npm script\'s entry (and berth.ts the dispatcher)');
  });

  it('--bogus: exit 2, one line naming the flag and the usage, no stack', async () => {
    const results = await pool([...COMMANDS], 4, (c) => run(['src/cli/launch.mjs', c.name, '--bogus']));
    COMMANDS.forEach((c, i) => assertUsage(results[i]!, c.name, /unknown flag --bogus/));
  });

  it('a missing value, a value on a switch, an extra argument, a bad number, a bad release, an unknown command', async () => {
    const cases: [string[], RegExp][] = [
      [['src/cli/launch.mjs', 'deploy', 'app', '--release'], /--release needs a value/],
      [['src/cli/launch.mjs', 'deploy', 'app', '--json=yes'], /--json takes no value/],
      [['src/cli/launch.mjs', 'deploy'], /missing <app>/],
      [['src/cli/launch.mjs', 'status', 'a', 'b'], /unexpected argument "b"/],
      [['src/cli/launch.mjs', 'logs', 'app', '--tail', 'ten'], /--tail expects a whole number/],
      [['src/cli/launch.mjs', 'logs', 'app', '--since', 'yesterday'], /--since expects a duration/],
      [['src/cli/launch.mjs', 'deploy', 'app', '--lock-wait', '10 minutes'], /--lock-wait expects a duration/],
      [['src/cli/launch.mjs', 'exec', 'app'], /missing <command…>/],
      [['src/cli/launch.mjs', 'logs', 'app', '--service', 'x;id'], /--service expects a compose service name/],
      [['src/cli/launch.mjs', 'deploy', 'app', '--release', 'v1;touch /tmp/x'], /--release "v1;touch \/tmp\/x": expected a Docker image tag.*contains ";"/],
      [['src/cli/launch.mjs', 'rollback', 'app', '--to', '../../etc'], /--to "..\/..\/etc".*outside the release folder/],
      [['src/cli/launch.mjs', 'plan', '--release', 'a b'], /--release "a b".*contains " "/],
      [['src/cli/launch.mjs', 'backup:restore', 'app', '--dump', '../x.sql.gz'], /--dump expects a dump file name/],
      [['src/cli/launch.mjs', 'backup-restore', 'app', '--dump', '../x.sql.gz'], /--dump expects a dump file name/],
      [['src/cli/launch.mjs', 'bench', '--only', 'nope'], /--only: unknown scenario nope/],
      [['src/cli/launch.mjs', 'completion', 'fish'], /unknown shell "fish"/],
    ];
    const results = await pool(cases, 4, ([argv]) => run(argv));
    cases.forEach(([argv, re], i) => assertUsage(results[i]!, argv.join(' '), re));
    const unknown = await run(['src/cli/launch.mjs', 'deplyo', 'app']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^ERROR \(UsageError\): unknown command "deplyo" \(did you mean "deploy"\?\); usage: berth <command>/);
  });

  it('names that do not exist are usage errors too (exit 2): an app, a host, a destination', async () => {
    const cases: [string[], RegExp][] = [
      [['src/cli/launch.mjs', 'status', '--host', 'nosuch'], /hosts\.json: no host "nosuch"/],
      [['src/cli/launch.mjs', 'status', 'nosuch'], /apps\/nosuch\/: expected an app folder/],
      [['src/cli/launch.mjs', 'setup', 'nosuch'], /hosts\.json: no host "nosuch"/],
      [['src/cli/launch.mjs', 'plan', 'nosuch'], /apps\/nosuch\/: expected an app/],
      [['src/cli/launch.mjs', 'config', 'nosuch', '-d', 'staging'], /apps\/nosuch\/app\.staging\.yml/],
    ];
    const results = await pool(cases, 4, ([argv]) => run(argv, initProject));
    cases.forEach(([argv, re], i) => {
      const r = results[i]!;
      assert.equal(r.code, 2, `${argv.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, /^ERROR \(UnknownNameError\): /, argv.join(' '));
      assert.match(r.stderr, re, argv.join(' '));
      noStack(r.stderr);
    });
  });
});

describe('unexpected errors', () => {
  it('formatError: first line of an unexpected error plus a pointer to --verbose; the stack only when verbose', () => {
    const err = new TypeError("Cannot read properties of undefined (reading 'x')\nmore detail");
    assert.equal(formatError(err), "ERROR (TypeError): Cannot read properties of undefined (reading 'x') — run with --verbose for details");
    assert.match(formatError(err, true), /\n\s+at /);
  });

  it('main(): a thrown error and an error escaping the command both print one line and exit 1', async () => {
    const thrown = await run(['-e', "import('./src/cli/main.ts').then(({ main }) => main(async () => { throw new RangeError('boom\\nsecond line'); }))"]);
    assert.equal(thrown.code, 1);
    assert.equal(thrown.stderr.trim(), 'ERROR (RangeError): boom — run with --verbose for details');
    const escaped = await run(['-e', "import('./src/cli/main.ts').then(({ main }) => main(async () => { setTimeout(() => { throw new Error('late'); }, 1); await new Promise((r) => setTimeout(r, 2000)); }))"]);
    assert.equal(escaped.code, 1);
    assert.equal(escaped.stderr.trim(), 'ERROR (Error): late — run with --verbose for details');
  });
});

describe('usage helpers', () => {
  it('describeParseError names the flag', () => {
    assert.equal(describeParseError({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION', message: "Unknown option '--nope'. To specify…" }), 'unknown flag --nope');
    assert.equal(describeParseError({ code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', message: "Option '--to <value>' argument missing" }), '--to needs a value');
    assert.equal(new UsageError('x', 'usage: a\n  more').message, 'x; usage: a   (--help for more)');
  });

  it('checkRelease accepts Docker tags and refuses what is not one safe path segment', () => {
    for (const ok of ['v1', 'v1.2.3', 'a1b2c3d', 'release_2026-01-01', 'x'.repeat(128), '0', '_x']) assert.equal(checkRelease(ok), undefined, ok);
    const bad: [string, RegExp][] = [
      ['v1;rm -rf /', /contains ";"/],
      ['../../etc', /outside the release folder/],
      ['a/b', /outside the release folder/],
      ['..', /outside the release folder/],
      ['.hidden', /starts with "\."/],
      ['-rf', /starts with "-"/],
      ['v 1', /contains " "/],
      ['x'.repeat(129), /129 characters/],
      ['', /empty/],
      ['v1`id`', /contains "`"/],
      ['$(id)', /contains "\$"/],
      ['tag:1', /contains ":"/],
    ];
    for (const [v, re] of bad) assert.match(checkRelease(v) ?? 'accepted', re, JSON.stringify(v));
    // A deployed release id (rollback --to) is "<tag>-<10 hex>": up to 139 characters.
    assert.equal(checkRelease(`${'x'.repeat(128)}-0123456789`, 139), undefined);
    assert.match(checkRelease(`${'x'.repeat(129)}-0123456789`, 139) ?? 'accepted', /140 characters/);
    assert.match(checkRelease('../x', 139) ?? 'accepted', /outside the release folder/);
  });
});
