// The `berth` binary as a user meets it (lane edge, machine h12): a symlink on PATH to the launcher
// (what `npm link` / `npm install -g` make), run in a folder `berth init` made, which passes plan;
// `--json` piped to jq; colours only in a terminal and never with NO_COLOR; a flag npm swallowed
// refused through real npm; exit codes 0/1/2/3; deploy --lock-wait against a held lock; logs
// --since/--grep and --follow on two hosts with prefixed lines.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hostSpec, SANDBOX_SSH_KEY } from '../../src/sandbox/config.ts';
import { REPO_ROOT } from '../../src/sandbox/paths.ts';
import { makeProject, onHost, resetApps, routeDomain, unrouteDomainHost, type TestProject } from './support/project.ts';

const H12 = hostSpec('h12');
const RUN = Date.now().toString(36).slice(-5);
const APP = `clibin${RUN}`;
const DOMAIN = `cli-${RUN}.berth.test`;
const work = mkdtempSync(join(tmpdir(), 'berth-cli-e2e-'));
const bin = join(work, 'bin');
const scratch = join(work, 'infra');
/** PATH with `berth` first, as after `npm link`; no BERTH_ROOT, no CI: what a person's shell has. */
const userEnv = (extra: Record<string, string> = {}) => {
  const env: Record<string, string> = { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME!, TERM: 'xterm-256color', ...extra };
  return env;
};

interface Run { code: number; stdout: string; stderr: string }
function sh(line: string, cwd: string, env = userEnv()): Run {
  const r = spawnSync('sh', ['-c', line], { cwd, env, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
/** The line in a pseudo-terminal (script(1)): what a person sees in tmux or a terminal window. */
const inTerminal = (line: string, cwd: string, env = userEnv()) => sh(`script -qec ${JSON.stringify(line)} /dev/null`, cwd, env);
const ANSI = /\u001b\[[0-9;]*m/;

let p: TestProject;
const appConfig = (hosts: string[]) => ({
  image: 'berth/testapp:v1',
  hosts,
  domains: [DOMAIN],
  port: 80,
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
  deploy: { retire_seconds: 2 },
});

before(async () => {
  mkdirSync(bin);
  symlinkSync(join(REPO_ROOT, 'src', 'cli', 'launch.mjs'), join(bin, 'berth'));
  resetApps([APP], H12);
  await routeDomain(DOMAIN, H12);
});

after(async () => {
  resetApps([APP], H12);
  await unrouteDomainHost(DOMAIN);
  p?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

test('berth init makes a folder that passes plan; berth finds it from any folder inside it', () => {
  const init = sh(`berth init infra --app ${APP} --host root@${H12.sshHost} --domain ${DOMAIN}`, work);
  assert.equal(init.code, 0, init.stderr);
  for (const f of ['hosts.json', 'shared/edge.yml', `apps/${APP}/app.yml`, 'schema/app.schema.json']) assert.ok(existsSync(join(scratch, f)), f);
  assert.match(init.stdout, /cd infra && berth plan/);
  // A second init changes nothing without --force.
  const again = sh(`berth init infra --app ${APP}`, work);
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /already has hosts\.json.*nothing was written \(--force overwrites them\)/);

  const plan = sh('berth plan', join(scratch, 'apps', APP));
  assert.equal(plan.code, 0, plan.stderr);
  assert.ok(existsSync(join(scratch, 'compose', APP, 'compose.yml')), 'compose/ rendered in the project folder, not the current one');
  assert.equal(sh('berth plan --check', scratch).code, 0);
  // Drift: plan --check exits 3 (2 is a usage error).
  const file = join(scratch, 'apps', APP, 'app.yml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('port: 80', 'port: 8080'));
  const drift = sh('berth plan --check', scratch);
  assert.equal(drift.code, 3, drift.stdout + drift.stderr);
  writeFileSync(file, readFileSync(file, 'utf8').replace('port: 8080', 'port: 80'));
});

test('exit codes: an unknown host, app or flag is 2 and touches no server; red is 3', async () => {
  const cases: [string, RegExp][] = [
    ['berth status --host nosuch', /UnknownNameError.*no host "nosuch"/],
    [`berth deploy ${APP} --hosts nosuch`, /UnknownNameError.*does not deploy to nosuch/],
    ['berth deploy nosuch', /UnknownNameError.*apps\/nosuch\//],
    [`berth deploy ${APP} -d staging`, /UnknownNameError.*app\.staging\.yml/],
    [`berth deploy ${APP} --dryrun`, /UsageError.*unknown flag --dryrun/],
  ];
  for (const [line, re] of cases) {
    const r = sh(line, scratch);
    assert.equal(r.code, 2, `${line}\n${r.stderr}`);
    assert.match(r.stderr, re, line);
  }
  assert.equal((await onHost(H12, `test -e /var/lib/berth/apps/${APP} && echo present || echo absent`)).stdout.trim(), 'absent', 'nothing reached the host');
});

test('status --json pipes cleanly into jq (real SSH to h12); red (not deployed) is exit 3', () => {
  // The host as the user fills it in for this machine: the sandbox's key and existing context.
  const hosts = JSON.parse(readFileSync(join(scratch, 'hosts.json'), 'utf8'));
  Object.assign(hosts.hosts.web1, { identity_file: SANDBOX_SSH_KEY, context: H12.context });
  writeFileSync(join(scratch, 'hosts.json'), JSON.stringify(hosts, null, 2));
  const piped = sh(`berth status --json | jq -r '.[] | "\\(.host) \\(.app) \\(.health)"'`, scratch);
  assert.match(piped.stdout, new RegExp(`^web1 ${APP} not deployed$`, 'm'), piped.stdout + piped.stderr);
  const raw = sh('berth status --json', scratch);
  assert.equal(raw.code, 3, raw.stderr);
  assert.deepEqual(JSON.parse(raw.stdout).map((r: { host: string; app: string }) => [r.host, r.app]), [['web1', APP]]);
  assert.doesNotMatch(raw.stdout, ANSI);
  // The npm form: `npm run -s` keeps npm's banner off stdout.
  const npm = sh(`npm run -s status -- --json | jq -e 'length == 1'`, REPO_ROOT, userEnv({ BERTH_ROOT: scratch }));
  assert.equal(npm.code, 0, npm.stdout + npm.stderr);
});

test('colours in a terminal; none with NO_COLOR, in CI, or piped', () => {
  const tty = inTerminal('berth status', scratch);
  assert.match(tty.stdout, ANSI, 'a terminal gets colours');
  assert.match(tty.stdout, /\u001b\[31mnot deployed/, 'red health in red');
  assert.doesNotMatch(inTerminal('berth status', scratch, userEnv({ NO_COLOR: '1' })).stdout, ANSI);
  assert.doesNotMatch(inTerminal('berth status', scratch, userEnv({ CI: 'true' })).stdout, ANSI);
  assert.doesNotMatch(sh('berth status | cat', scratch).stdout, ANSI);
  assert.match(inTerminal('berth help', scratch).stdout, /\u001b\[1mDeploy\u001b\[22m/);
  assert.doesNotMatch(inTerminal('berth help', scratch, userEnv({ NO_COLOR: '1' })).stdout, ANSI);
});

test('a flag npm swallowed (no --): nothing is done, the corrected line is printed, exit 2 (real npm)', async () => {
  const env = userEnv({ BERTH_ROOT: scratch });
  const r = sh(`npm run -s deploy ${APP} --dry-run`, REPO_ROOT, env);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`npm took --dry-run for itself.*nothing was done; run: npm run -s deploy -- ${APP} --dry-run$`, 'm'));
  const two = sh(`npm run -s deploy ${APP} --release v2 -d staging`, REPO_ROOT, env);
  assert.equal(two.code, 2);
  assert.match(two.stderr, /npm took --release, -d for itself/);
  assert.equal(sh(`npm run -s logs ${APP} -f`, REPO_ROOT, env).code, 2);
  const json = sh('npm run -s status --json', REPO_ROOT, env);
  assert.match(json.stderr, /run: npm run -s status -- --json/);
  // The same setting from an .npmrc is npm's own business: not refused.
  const rc = join(work, 'npmrc');
  writeFileSync(rc, 'json=true\ndry-run=true\n');
  const fromRc = sh('npm run -s status', REPO_ROOT, userEnv({ BERTH_ROOT: scratch, npm_config_userconfig: rc }));
  assert.equal(fromRc.code, 3, fromRc.stderr);
  assert.doesNotMatch(fromRc.stderr, /npm took/);
  // With "--" everything reaches Berth; npx passes flags through as well.
  assert.equal(sh(`npm run -s plan -- ${APP} --check`, REPO_ROOT, env).code, 0);
  assert.equal(sh(`npx berth plan ${APP} --check`, REPO_ROOT, env).code, 0);
  assert.equal((await onHost(H12, `test -e /var/lib/berth/apps/${APP} && echo present || echo absent`)).stdout.trim(), 'absent', 'the refused deploy never ran');
});

test('deploy --lock-wait waits for a held lock, then deploys; without it the lock fails the deploy at once', async () => {
  p = makeProject('berth-e2e-cli-', [H12]);
  p.writeApp(APP, appConfig(['h12']));
  const setup = await p.berth('setup', ['h12']);
  assert.equal(setup.code, 0, setup.stdout + setup.stderr);
  // Another deploy's lock, alive (fresh heartbeat, another machine).
  const lock = `/var/lib/berth/apps/${APP}/lock`;
  const holder = JSON.stringify({ user: 'ci', machine: 'other-runner', pid: 4242, command: `deploy ${APP} other`, since: new Date().toISOString() });
  await onHost(H12, `mkdir -p ${lock} && printf '%s\\n' '${holder}' > ${lock}/holder.json`);
  const now = await p.berth('deploy', [APP]);
  assert.equal(now.code, 1, now.stderr);
  assert.match(now.stderr, /is locked by ci@other-runner/);
  const t0 = Date.now();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'src', 'cli', 'launch.mjs'), 'deploy', APP, '--lock-wait', '2m'], { cwd: REPO_ROOT, env: { ...process.env, BERTH_ROOT: p.root, CI: '1' } });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  for (let i = 0; i < 100 && !/waiting for it \(--lock-wait/.test(err); i++) await new Promise((r) => setTimeout(r, 200));
  assert.match(err, /is locked by ci@other-runner.*waiting for it \(--lock-wait, \d+s left\)/);
  await onHost(H12, `rm -rf ${lock}`); // the other deploy finishes
  const released = Date.now();
  assert.equal(await done, 0, err);
  assert.ok(released - t0 < 30_000, 'released before the stale-lock takeover (35 s) could explain it');
  assert.match(err, /h12: deployed/);
});

test('logs --since --grep on the live colour; --follow on two hosts prefixes each line with its host', async () => {
  const marker = `cli-grep-${RUN}`;
  const ex = await p.berth('exec', [APP, 'curl', '-s', '-o', '/dev/null', `http://127.0.0.1/${marker}`]);
  assert.equal(ex.code, 0, ex.stderr);
  const grep = await p.berth('logs', [APP, '--since', '10m', '--grep', marker]);
  assert.equal(grep.code, 0, grep.stderr);
  const lines = grep.stdout.trim().split('\n');
  assert.equal(lines.length, 1, grep.stdout);
  assert.match(lines[0]!, new RegExp(`GET /${marker} 404`));
  const none = await p.berth('logs', [APP, '--since', '1s', '--grep', 'no-such-line-anywhere']);
  assert.equal(none.stdout.trim(), '');

  // Two host names for this one machine: both read the same live project, each line under its host.
  const hosts = JSON.parse(readFileSync(join(p.root, 'hosts.json'), 'utf8'));
  hosts.hosts.h12b = { ...hosts.hosts.h12 };
  writeFileSync(join(p.root, 'hosts.json'), JSON.stringify(hosts, null, 2));
  p.writeApp(APP, appConfig(['h12', 'h12b']));
  const child = spawn(process.execPath, [join(REPO_ROOT, 'src', 'cli', 'launch.mjs'), 'logs', APP, '--follow', '--tail', '0', '--grep', `${marker}-follow`], {
    cwd: REPO_ROOT,
    env: { ...process.env, BERTH_ROOT: p.root, CI: '1' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const ended = new Promise<number | null>((resolve) => child.on('close', (c, sig) => resolve(c ?? (sig ? 130 : null))));
  // A request to the live container every second until both hosts' streams have printed it (bounded).
  for (let i = 0; i < 30 && !(/^h12 +\| /m.test(out) && /^h12b \| /m.test(out)); i++) {
    await onHost(H12, `docker exec $(docker ps -q --filter label=berth.app=${APP} | head -1) curl -s -o /dev/null http://127.0.0.1/${marker}-follow`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  child.kill('SIGINT');
  await ended;
  assert.match(out, new RegExp(`^h12  \\| .*GET /${marker}-follow 404`, 'm'), `${out}\n${err}`);
  assert.match(out, new RegExp(`^h12b \\| .*GET /${marker}-follow 404`, 'm'), out);
});
