// The command table and what is made from it (parser, help, completion), the exit-code mapping,
// npm-swallowed flag detection, durations, colours, docs and --lock-wait: pure parts, plus the
// completion script run by a real bash.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isLockError, withLockWait } from '../../src/app/lock-wait.ts';
import { formatStatus, type StatusRow } from '../../src/app/ops.ts';
import { parseDuration, sinceFlag } from '../../src/cli/args.ts';
import { suggest } from '../../src/cli/berth.ts';
import { bashScript, completionNames, zshScript } from '../../src/cli/completion.ts';
import { docKeys, findKey, formatDoc, formatIndex, loadSchemas } from '../../src/cli/docs.ts';
import { commandHelp, exampleIn, formOf, generalHelp, usageLine } from '../../src/cli/help.ts';
import { initFiles, initOptions } from '../../src/cli/init.ts';
import { correctedLine, detectSwallowed, npmrcKeys, swallowedFlags, swallowedMessage } from '../../src/cli/npm-swallow.ts';
import { parseCommand, verbatimStart } from '../../src/cli/parse.ts';
import { projectRoot } from '../../src/cli/root.ts';
import { GROUPS, HELP_FLAG } from '../../src/cli/spec.ts';
import { COMMANDS, findCommand } from '../../src/cli/table.ts';
import { validateProject } from '../../src/config/validate.ts';
import { EXIT, exitCodeOf, LockError, StepError, UnknownNameError, UsageError } from '../../src/errors.ts';
import { COLOURS, colourEnabled, PLAIN } from '../../src/log/colour.ts';
import { createLogger } from '../../src/log/logger.ts';

const tmp = mkdtempSync(join(tmpdir(), 'berth-cli-table-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const cmd = (name: string) => findCommand(name)!;

describe('the command table', () => {
  it('names are unique (aliases included); every entry has a group, a one-line summary, examples naming it, and help for each flag', () => {
    const names = COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]);
    assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), []);
    for (const c of COMMANDS) {
      assert.ok(GROUPS.includes(c.group), c.name);
      assert.ok(c.summary.length > 10 && c.summary.length <= 110 && !c.summary.includes('\n'), `${c.name}: summary "${c.summary}"`);
      assert.ok(c.examples.some((e) => e.includes(`berth ${c.name}`)) && c.examples.every((e) => /\bberth /.test(e)), `${c.name}: examples ${c.examples.join(' | ')}`);
      const shorts = Object.values({ ...c.flags, ...HELP_FLAG }).map((f) => f.short).filter(Boolean);
      assert.deepEqual(shorts.filter((s, i) => shorts.indexOf(s) !== i), [], `${c.name}: a short flag twice`);
      for (const [n, f] of Object.entries(c.flags)) {
        assert.match(n, /^[a-z][a-z0-9-]*$/, `${c.name} --${n}`);
        assert.ok(f.help.length > 5, `${c.name} --${n} has no help`);
        if (f.type === 'string') assert.ok(f.value, `${c.name} --${n} has no value placeholder`);
      }
    }
  });

  it('old script names still reach their command (backup-status → backup:status)', () => {
    assert.equal(findCommand('backup-status')?.name, 'backup:status');
    assert.equal(findCommand('sandbox-up')?.name, 'sandbox:up');
    assert.equal(findCommand('nosuch'), undefined);
    assert.equal(suggest('deplyo'), 'deploy');
    assert.equal(suggest('back'), undefined, 'several commands start with back');
    assert.equal(suggest('roll'), 'rollback');
    assert.equal(suggest('zzzzzz'), undefined);
  });
});

describe('parser', () => {
  const U = 'usage: berth x';
  it('parses the table\'s flags strictly, with short forms and bounds on arguments', () => {
    const p = parseCommand(cmd('deploy'), ['app', '--release', 'v2', '-d', 'staging', '--dry-run'], U);
    assert.deepEqual(p.values, { release: 'v2', destination: 'staging', 'dry-run': true });
    assert.deepEqual(p.positionals, ['app']);
    assert.throws(() => parseCommand(cmd('deploy'), ['app', '--nope'], U), (e: unknown) => e instanceof UsageError && /^unknown flag --nope; usage: berth x/.test(e.message));
    assert.throws(() => parseCommand(cmd('deploy'), [], U), /missing <app>/);
    assert.throws(() => parseCommand(cmd('lock'), ['status'], U), /missing <app>/);
    assert.throws(() => parseCommand(cmd('deploy'), ['a', 'b'], U), /unexpected argument "b"/);
    assert.throws(() => parseCommand(cmd('status'), ['--host'], U), /--host needs a value/);
    // --help wins over missing arguments.
    assert.equal(parseCommand(cmd('deploy'), ['--help'], U).values.help, true);
  });

  it('exec: flags before <app>, everything after it verbatim (its own flags, a "--")', () => {
    const exec = cmd('exec');
    assert.equal(verbatimStart(['--host', 'h1', 'app', 'ls', '-la'], exec.flags, 1), 3);
    assert.equal(verbatimStart(['-d', 'staging', '-i', 'app', 'sh'], exec.flags, 1), 4);
    const p = parseCommand(exec, ['--host', 'h1', '-i', 'app', 'ls', '-la', '--host', 'x'], U);
    assert.deepEqual([p.values.host, p.values.interactive, p.positionals, p.rest], ['h1', true, ['app'], ['ls', '-la', '--host', 'x']]);
    assert.deepEqual(parseCommand(exec, ['app', '--', 'x'], U).rest, ['--', 'x']);
    assert.throws(() => parseCommand(exec, ['--bogus', 'app', 'ls'], U), /unknown flag --bogus/);
    const alias = parseCommand(cmd('alias'), ['whoami', '--host', 'h1', 'app', '--extra'], U);
    assert.deepEqual([alias.positionals, alias.rest, alias.values.host], [['whoami', 'app'], ['--extra'], 'h1']);
  });
});

describe('help', () => {
  it('berth help lists every visible command once, by group in order, one line each', () => {
    const text = generalHelp(COMMANDS, 'berth');
    for (const c of COMMANDS) assert.equal(text.split('\n').filter((l) => l.startsWith(`  ${c.name} `)).length, c.hidden ? 0 : 1, c.name);
    const at = GROUPS.map((g) => text.indexOf(`\n${g}\n`));
    assert.deepEqual([...at].sort((a, b) => a - b), at, 'groups in order');
    assert.ok(at.every((i) => i > 0));
    assert.match(text, /Exit codes: 0 ok, 1 failed, 2 usage.*3 red or drift/);
  });

  it('<command> --help explains every flag and shows examples, in the form the user typed', () => {
    for (const c of COMMANDS) {
      const text = commandHelp(c, 'berth');
      for (const [n, f] of Object.entries(c.flags)) assert.ok(text.includes(`--${n}`) && text.includes(f.help), `${c.name} --${n}`);
      assert.match(text, /examples:\n {2}\S/);
    }
    const npm = commandHelp(cmd('deploy'), 'npm');
    assert.match(npm, /^usage: npm run deploy -- <app> \[flags\]\n {7}berth deploy <app> \[flags\]$/m);
    assert.match(npm, /^ {2}npm run deploy -- wombatworkouts --release v2 --dry-run$/m);
    assert.equal(exampleIn('npm', "berth status --json | jq -r '.[]'"), "npm run -s status -- --json | jq -r '.[]'");
    assert.equal(exampleIn('npm', 'cd infra && berth plan'), 'cd infra && npm run plan');
    assert.equal(usageLine(cmd('lock'), 'berth').split(' [')[0], 'usage: berth lock status|release <app>');
    assert.equal(formOf({ npm_lifecycle_event: 'deploy', npm_command: 'run' }), 'npm');
    assert.equal(formOf({ npm_lifecycle_event: 'npx', npm_command: 'exec' }), 'berth');
    assert.equal(formOf({}), 'berth');
    assert.equal(formOf({ npm_lifecycle_event: 'deploy', npm_command: 'run' }, cmd('deploy')), 'npm');
    assert.equal(formOf({ npm_lifecycle_event: 'backup:status', npm_command: 'run' }, cmd('backup-status')), 'npm');
    assert.equal(formOf({ npm_lifecycle_event: 'test:e2e', npm_command: 'run' }, cmd('deploy')), 'berth', 'Berth started by a test under npm run test:e2e');
  });
});

describe('exit codes', () => {
  it('0 ok, 1 failed, 2 usage (a bad flag or an unknown name), 3 red or drift', () => {
    assert.deepEqual(EXIT, { ok: 0, failed: 1, usage: 2, red: 3 });
    assert.equal(exitCodeOf(new UsageError('x', 'usage: y')), 2);
    assert.equal(exitCodeOf(new UnknownNameError('no host "x"')), 2);
    assert.equal(exitCodeOf(new StepError('deploy', 'failed')), 1);
    assert.equal(exitCodeOf(new LockError('a', 'b', 'c')), 1);
    assert.equal(exitCodeOf(new TypeError('bug')), 1);
    assert.equal(exitCodeOf('a string'), 1);
    assert.equal(new UsageError('only this', '').message, 'only this');
  });
});

describe('npm-swallowed flags (npm 11 leaves npm_config_<flag>)', () => {
  const run = (script: string, vars: Record<string, string>) => ({ npm_command: 'run', npm_lifecycle_event: script, npm_config_user_agent: 'npm/11', npm_config_yes: '', npm_config_audit: '', npm_config_loglevel: 'notice', ...vars });
  const none = new Set<string>();
  it('finds exactly what npm 11 sets for each kind of flag (as measured: see the e2e test)', () => {
    const deploy = cmd('deploy').flags;
    assert.deepEqual(swallowedFlags(deploy, run('deploy', {}), none), []);
    assert.deepEqual(swallowedFlags(deploy, run('deploy', { npm_config_dry_run: 'true' }), none), [{ flag: 'dry-run', typed: '--dry-run' }]);
    assert.deepEqual(swallowedFlags(deploy, run('deploy', { npm_config_release: 'true' }), none), [{ flag: 'release', typed: '--release' }]);
    assert.deepEqual(swallowedFlags(deploy, run('deploy', { npm_config_release: 'v2' }), none), [{ flag: 'release', typed: '--release', value: 'v2' }]);
    assert.deepEqual(swallowedFlags(deploy, run('deploy', { npm_config_loglevel: 'info' }), none), [{ flag: 'destination', typed: '-d' }]);
    assert.deepEqual(swallowedFlags(deploy, run('deploy', { npm_config_loglevel: 'verbose' }), none), [{ flag: 'verbose', typed: '--verbose' }]);
    assert.deepEqual(swallowedFlags(deploy, run('deploy', { npm_config_loglevel: 'silent' }), none), [], 'npm run -s is npm\'s own');
    assert.deepEqual(swallowedFlags(cmd('rollback').flags, run('rollback', { npm_config_token_description: 'v1' }), none), [{ flag: 'to', typed: '--to', value: 'v1' }], '--to v1 read by npm as --token-description v1');
    assert.deepEqual(swallowedFlags(cmd('logs').flags, run('logs', { npm_config_force: 'true' }), none), [{ flag: 'follow', typed: '-f' }]);
    assert.deepEqual(swallowedFlags(cmd('remove').flags, run('remove', { npm_config_yes: 'true' }), none), [{ flag: 'yes', typed: '--yes' }]);
    assert.deepEqual(swallowedFlags(cmd('details').flags, run('details', { npm_config_certs: '' }), none), [{ flag: 'no-certs', typed: '--no-certs' }]);
    assert.deepEqual(swallowedFlags(cmd('status').flags, run('status', { npm_config_json: 'true' }), none), [{ flag: 'json', typed: '--json' }]);
  });

  it('a value npm read from an .npmrc or its own environment is not a swallowed flag; outside npm nothing is', () => {
    assert.deepEqual(swallowedFlags(cmd('status').flags, run('status', { npm_config_json: 'true' }), new Set(['json'])), []);
    assert.deepEqual(swallowedFlags(cmd('deploy').flags, run('deploy', { npm_config_loglevel: 'verbose' }), new Set(['loglevel'])), []);
    assert.deepEqual(swallowedFlags(cmd('status').flags, { npm_config_json: 'true' }, none), [], 'not started by npm');
    // Under another npm script (the tests under `npm test --verbose`), its npm_config_* are not this command's.
    const underTest = { npm_command: 'test', npm_lifecycle_event: 'test', npm_config_loglevel: 'verbose' };
    assert.equal(detectSwallowed(cmd('deploy'), ['app'], underTest), undefined);
    assert.equal(detectSwallowed(cmd('deploy'), ['app'], { ...underTest, npm_command: 'run', npm_lifecycle_event: 'test:e2e' }), undefined);
    assert.match(detectSwallowed(cmd('deploy'), ['app'], { npm_command: 'run', npm_lifecycle_event: 'deploy', npm_config_dry_run: 'true' }) ?? '', /run: npm run deploy -- app --dry-run$/);
    assert.deepEqual(npmrcKeys('; comment\njson=true\n  Dry-Run = true\n//registry.npmjs.org/:_authToken=x\nfoo[]=a\n'), ['json', 'dry_run', '//registry.npmjs.org/:_authtoken', 'foo']);
  });

  it('prints the line the user meant: npm\'s words, --, then the arguments and the flags', () => {
    const env = run('deploy', { npm_config_release: 'true', npm_config_dry_run: 'true', npm_config_loglevel: 'silent' });
    const found = swallowedFlags(cmd('deploy').flags, env, none);
    assert.equal(correctedLine(cmd('deploy'), ['wombatworkouts', 'v2'], found, env), 'npm run -s deploy -- wombatworkouts --release v2 --dry-run');
    assert.equal(correctedLine(cmd('deploy'), ['wombatworkouts'], found, env), 'npm run -s deploy -- wombatworkouts --release <tag> --dry-run');
    const d = run('deploy', { npm_config_loglevel: 'info' });
    assert.equal(correctedLine(cmd('deploy'), ['shop', 'staging'], swallowedFlags(cmd('deploy').flags, d, none), d), 'npm run deploy -- shop -d staging');
    assert.match(swallowedMessage(found, 'L'), /^npm took --release, --dry-run for itself .*nothing was done; run: L$/);
    const x = { npm_command: 'exec', npm_lifecycle_event: 'npx', npm_config_json: 'true' };
    assert.equal(correctedLine(cmd('status'), [], swallowedFlags(cmd('status').flags, x, none), x), 'npx berth status --json');
  });
});

describe('durations and colours', () => {
  it('parseDuration and --since', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('2d'), 172_800_000);
    assert.equal(parseDuration('500ms'), 500);
    for (const bad of ['', '10', 'm', '1.5h', '10 m', '-1s', '1y']) assert.equal(parseDuration(bad), undefined, bad);
    assert.equal(sinceFlag('15m', 'u'), '900s');
    assert.equal(sinceFlag('1d', 'u'), '86400s');
    assert.equal(sinceFlag('2026-01-31T12:00:00Z', 'u'), '2026-01-31T12:00:00Z');
    assert.throws(() => sinceFlag('yesterday', 'u'), /--since expects a duration/);
    assert.throws(() => sinceFlag('2026-01-31;id', 'u'), /--since expects/);
  });

  it('colour in a terminal only: not with NO_COLOR, in CI, with TERM=dumb or piped; FORCE_COLOR below NO_COLOR', () => {
    const tty = { isTTY: true };
    assert.equal(colourEnabled(tty, {}), true);
    assert.equal(colourEnabled({ isTTY: false }, {}), false);
    assert.equal(colourEnabled(tty, { NO_COLOR: '1' }), false);
    assert.equal(colourEnabled(tty, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset (no-color.org)');
    assert.equal(colourEnabled(tty, { CI: 'true' }), false);
    assert.equal(colourEnabled(tty, { TERM: 'dumb' }), false);
    assert.equal(colourEnabled({ isTTY: false }, { FORCE_COLOR: '1' }), true);
    assert.equal(colourEnabled({ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: '1' }), false);
    const row: StatusRow = { host: 'h1', app: 'a', release: 'v1', colour: 'blue', health: 'unhealthy', domains: [], certificate: [], problems: [] };
    const plain = formatStatus([row]);
    assert.doesNotMatch(plain, /\u001b\[/);
    const coloured = formatStatus([row], COLOURS);
    assert.match(coloured, /\u001b\[31munhealthy\s*\u001b\[39m/);
    assert.equal(coloured.replace(/\u001b\[\d+m/g, ''), plain, 'same text, same widths');
    const lines: string[] = [];
    const log = createLogger({ style: 'terminal', colour: true, sink: { err: (l) => lines.push(l), out: () => {} } });
    log.warn('careful');
    log.step('x')();
    assert.match(lines[0]!, /^\u001b\[33m! careful/);
    const plainLines: string[] = [];
    createLogger({ style: 'terminal', colour: false, sink: { err: (l) => plainLines.push(l), out: () => {} } }).warn('careful');
    assert.equal(plainLines[0], '! careful');
    assert.equal(PLAIN.red('x'), 'x');
  });
});

describe('completion', () => {
  const project = join(tmp, 'project');
  mkdirSync(join(project, 'apps', 'shop'), { recursive: true });
  mkdirSync(join(project, 'apps', 'blog'), { recursive: true });
  writeFileSync(join(project, 'apps', 'shop', 'app.yml'), 'image: x\naliases:\n  whoami: whoami\n');
  writeFileSync(join(project, 'apps', 'shop', 'app.staging.yml'), 'hosts: [h2]\n');
  writeFileSync(join(project, 'hosts.json'), JSON.stringify({ hosts: { h2: { ssh: 'root@x', roles: ['web', 'jobs'] }, h1: { ssh: 'root@y', roles: ['web'] } } }));

  it('names come straight from the project files', () => {
    assert.deepEqual(completionNames(project, 'app'), ['blog', 'shop']);
    assert.deepEqual(completionNames(project, 'host'), ['h1', 'h2']);
    assert.deepEqual(completionNames(project, 'roles'), ['jobs', 'web']);
    assert.deepEqual(completionNames(project, 'destination', 'shop'), ['staging']);
    assert.deepEqual(completionNames(project, 'alias', 'shop'), ['console', 'dbc', 'shell', 'whoami']);
    assert.deepEqual(completionNames(join(tmp, 'nothing'), 'app'), []);
    assert.ok(completionNames(project, 'command', undefined, COMMANDS).includes('backup:status'));
  });

  /** Source the script in a real bash with `berth` answering __complete from the test project, complete a line. */
  function complete(line: string): string[] {
    const script = join(tmp, 'berth.bash');
    writeFileSync(script, bashScript(COMMANDS));
    const words = line.split(' ');
    const driver = [
      `berth() { [ "$1" = __complete ] && node --import tsx -e 'import("${join(process.cwd(), 'src/cli/completion.ts')}").then((m) => { const n = m.completionNames(${JSON.stringify(project)}, process.argv[1], process.argv[2]); if (n.length) console.log(n.join("\\n")); })' "$2" "$3"; }`,
      `source ${script}`,
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMP_LINE=${JSON.stringify(line)}; COMP_POINT=${line.length}`,
      '_berth; printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    const r = spawnSync('bash', ['-c', driver], { encoding: 'utf8', cwd: process.cwd() });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  }

  it('bash: the script parses, and completes commands, flags, app, host, destination and fixed words', () => {
    const check = spawnSync('bash', ['-n'], { input: bashScript(COMMANDS), encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    assert.deepEqual(complete('berth dep'), ['deploy']);
    assert.deepEqual(complete('berth deploy --dr'), ['--dry-run']);
    assert.deepEqual(complete('berth deploy '), ['blog', 'shop']);
    assert.deepEqual(complete('berth deploy shop --hosts '), ['h1', 'h2']);
    assert.deepEqual(complete('berth deploy shop -d '), ['staging']);
    assert.deepEqual(complete('berth completion '), ['bash', 'zsh']);
    assert.deepEqual(complete('berth lock '), ['release', 'status']);
    assert.deepEqual(complete('berth lock status '), ['blog', 'shop']);
    assert.deepEqual(complete('berth setup '), ['h1', 'h2']);
    assert.deepEqual(complete('berth deploy shop --release '), [], 'a free value: nothing offered');
  });

  it('zsh: one _arguments line per command, every flag with its help, names through __complete', () => {
    const z = zshScript(COMMANDS);
    assert.match(z, /^#compdef berth/);
    for (const c of COMMANDS.filter((x) => !x.hidden)) {
      const line = z.split('\n').find((l) => l.startsWith(`    '${c.name}')`));
      assert.ok(line, c.name);
      for (const n of Object.keys(c.flags)) assert.ok(line.includes(`--${n}`), `${c.name} --${n}`);
    }
    assert.match(z, /'1:app:_berth_names app'/);
    assert.match(z, /berth __complete \$\{@\[-1\]\}/, "_arguments puts compadd options first: the kind is the last argument");
    const zsh = spawnSync('zsh', ['-n'], { input: z, encoding: 'utf8' });
    // npm test's sandbox:up installs zsh (sandbox/provision/engine.sh); a bare `npm run test:unit` may lack it.
    if (!zsh.error) assert.equal(zsh.status, 0, zsh.stderr);
  });
});

describe('docs (the config reference, from the JSON Schema)', () => {
  const schemas = loadSchemas();
  it('finds keys in app.yml, shared/edge.yml and hosts.json, through unions and named entries', () => {
    const hc = findKey(schemas, 'healthcheck.start_interval');
    assert.equal(hc.file, 'apps/<app>/app.yml');
    const text = formatDoc(hc);
    assert.match(text, /start_period/);
    assert.match(text, /default: {2}"100ms"/);
    assert.equal(findKey(schemas, 'app.healthcheck.path').path, 'healthcheck.path');
    assert.equal(findKey(schemas, 'edge.acme.email').file, 'shared/edge.yml');
    assert.match(formatDoc(findKey(schemas, 'host.ssh')), /^hosts\.json: hosts\.<name>\.ssh/);
    assert.match(formatDoc(findKey(schemas, 'www')), /"none" \| "alias" \| "redirect-to-apex" \| "redirect-to-www"/);
    assert.match(formatDoc(findKey(schemas, 'tls')), /one of:\n {2}mode: "acme"/);
    assert.equal(findKey(schemas, 'tls.key_secret').path, 'tls.key_secret');
    assert.ok(findKey(schemas, 'accessories.db.image'));
    assert.match(formatDoc(findKey(schemas, 'healthcheck')), /keys \(\* required\):\n {2}path/);
    assert.throws(() => findKey(schemas, 'healthcheck.nope'), (e: unknown) => e instanceof UnknownNameError && /healthcheck has path, interval/.test(e.message));
  });

  it('the index lists each file\'s top-level keys; completion offers keys', () => {
    const idx = formatIndex(schemas);
    assert.match(idx, /^apps\/<app>\/app\.yml: berth docs app\.<key>\n {2}image/m);
    assert.match(idx, /^shared\/edge\.yml: berth docs edge\.<key>/m);
    assert.match(idx, /^hosts\.json \(each host under "hosts"\): berth docs host\.<key>\n {2}ssh/m);
    const keys = docKeys(schemas);
    for (const k of ['healthcheck', 'healthcheck.path', 'deploy.retire_seconds', 'edge.acme', 'edge.acme.email', 'host.ssh']) assert.ok(keys.includes(k), k);
  });
});

describe('init and the project root', () => {
  it('the scaffold validates (what plan loads), with the flags checked first', () => {
    const files = initFiles(initOptions({ app: 'shop', host: '203.0.113.7', domain: 'Shop.Example.com' }, 'u'));
    assert.match(files['hosts.json']!, /"ssh": "root@203\.0\.113\.7"/);
    assert.match(files['apps/shop/app.yml']!, /domains: \["shop\.example\.com"\]/);
    assert.match(files['shared/edge.yml']!, /email: "ops@example\.com"/);
    assert.ok(files['schema/app.schema.json']);
    assert.throws(() => initOptions({ app: 'Bad App' }, 'u'), /--app takes a name/);
    assert.throws(() => initOptions({ domain: 'x;id' }, 'u'), /--domain expects a domain/);
  });

  it('the root: BERTH_ROOT, else the nearest folder with hosts.json or apps/, else the current one', () => {
    const p = join(tmp, 'infra');
    mkdirSync(join(p, 'apps', 'shop'), { recursive: true });
    assert.equal(projectRoot({}, join(p, 'apps', 'shop')), p);
    assert.equal(projectRoot({ BERTH_ROOT: 'elsewhere' }, p), join(p, 'elsewhere'));
    const empty = mkdtempSync(join(tmpdir(), 'berth-no-project-'));
    assert.equal(projectRoot({}, empty), empty);
    rmSync(empty, { recursive: true });
    void validateProject;
  });
});

describe('deploy --lock-wait', () => {
  const log = { info() {}, warn() {}, error() {}, step: () => () => 0, addSecrets() {} } as never;
  const locked = () => new LockError('app on h1', 'ops@ci (pid 1)', 'ssh … rm -rf lock');

  it('retries while the lock is held, then deploys; gives up with the LockError when the wait is over', async () => {
    let tries = 0;
    const out = await withLockWait(log, { waitMs: 5000, intervalMs: 20, maxIntervalMs: 40 }, async () => {
      if (++tries < 3) throw new StepError('deploy', 'h2 failed', {}, { cause: locked() });
      return 'deployed';
    });
    assert.equal(out, 'deployed');
    assert.equal(tries, 3);
    const t0 = Date.now();
    let n = 0;
    await assert.rejects(withLockWait(log, { waitMs: 300, intervalMs: 20, maxIntervalMs: 40 }, async () => { n++; throw locked(); }), /is locked by/);
    assert.ok(Date.now() - t0 < 3000 && n >= 2, `${n} tries in ${Date.now() - t0} ms`);
  });

  it('another failure, or no --lock-wait, fails at once', async () => {
    let n = 0;
    await assert.rejects(withLockWait(log, { waitMs: 5000, intervalMs: 20 }, async () => { n++; throw new StepError('health', 'unhealthy'); }), /unhealthy/);
    assert.equal(n, 1);
    n = 0;
    await assert.rejects(withLockWait(log, { waitMs: 0 }, async () => { n++; throw locked(); }), /is locked by/);
    assert.equal(n, 1);
    assert.equal(isLockError(new StepError('deploy', 'x', {}, { cause: locked() })), true);
    assert.equal(isLockError(new Error('x')), false);
  });
});

describe('npm ci', () => {
  it('every dependency with an install script is covered by allowScripts (npm 11 warns about any other)', async () => {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
    const lock = JSON.parse(readFileSync(join(process.cwd(), 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean; version?: string }> };
    const withScripts = Object.entries(lock.packages).filter(([, p]) => p.hasInstallScript).map(([path, p]) => ({ name: path.replace(/^.*node_modules\//, ''), version: p.version }));
    assert.ok(withScripts.length > 0, 'esbuild has one');
    const covered = (n: { name: string; version?: string }) => Object.keys(pkg.allowScripts ?? {}).some((k) => k === n.name || k === `${n.name}@${n.version}`);
    assert.deepEqual(withScripts.filter((n) => !covered(n)), []);
  });
});
