// Releases end to end on the sandbox host: the release id follows the app's own repository (the
// build context), rollback brings workers back, keep_releases prunes, every deploy/rollback is in
// the host's history, "nothing changed" is never answered while another deploy holds the lock,
// and a lock whose heartbeat stopped is taken over within seconds.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { httpsRequest, waitFor } from '../../src/sandbox/http.ts';
import { hostSpec } from '../../src/sandbox/config.ts';
import { makeProject, onHost, resetApps, routeDomain, type TestProject, unrouteDomainHost } from './support/project.ts';

// The transfer lane's first machine (test/e2e/lanes.ts): this file runs beside the main lane.
const H = hostSpec('h10');

const APP = 'rel-src';
const DOMAIN = `${APP}.berth.test`;
const APP_DIR = `/var/lib/berth/apps/${APP}`;
let p: TestProject;
let src: string;

/** Run a shell line on the host (SSH); throws on a non-zero exit. */
const host = async (cmd: string) => {
  const r = await onHost(H, cmd, { allowFail: true });
  if (r.code !== 0) throw new Error(`on ${H.name}: ${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
};
const hostOk = async (cmd: string) => (await onHost(H, cmd, { allowFail: true })).code === 0;
const docker = (...args: string[]) => execFileSync('docker', ['--context', H.context, ...args], { encoding: 'utf8' }).trim();
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=dev@example.com', '-c', 'user.name=dev', ...args], { cwd: src, encoding: 'utf8' }).trim();
const head = () => git('rev-parse', '--short', 'HEAD');
type Outcome = { host: string; result: string; release: string; colour: string };
const outcome = (stdout: string) => (JSON.parse(stdout) as Outcome[])[0]!;
const deploy = (args: string[] = [], env: Record<string, string> = {}) => p.berth('deploy', [APP, '--json', ...args], env);
const current = async () => JSON.parse(await host(`cat ${APP_DIR}/current.json`)) as { release: string; colour: string; previous: { release: string } | null };
const releasesOnHost = async () => (await host(`ls -1 ${APP_DIR}/releases`)).split('\n').filter(Boolean).sort();

/** The app's own code: a Dockerfile whose RELEASE shows in the X-Release header. */
const setCode = (text: string) => writeFileSync(join(src, 'Dockerfile'), `FROM berth/testapp:v1\nENV RELEASE=${text}\n`);

async function served(): Promise<string> {
  // What the edge answered last goes into the timeout's message: a 404, a TLS error and a hang
  // point to different places.
  let last = 'no answer yet';
  const r = await waitFor(`${DOMAIN} over HTTPS`, async () => {
    const x = await httpsRequest(`https://${DOMAIN}/`).catch((e: Error) => void (last = e.message));
    if (x) last = `HTTP ${x.status} ${x.body.slice(0, 80)}`;
    return x?.status === 200 ? x : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 }).catch(async (e: Error) => {
    // What the edge sees: the route's server, the names it resolves, the app's containers.
    const seen = await onHost(H, [
      `grep -h 'url:' /var/lib/berth/edge/dynamic/${APP}.yml`,
      `docker exec berth-edge-traefik-1 getent hosts ${APP}-web-blue ${APP}-web-green`,
      `docker ps -a --filter label=com.docker.compose.project=berth-${APP} --format '{{.Names}} {{.State}} {{.Status}} {{.ID}}'`,
      `for c in $(docker ps -q --filter label=com.docker.compose.project=berth-${APP}); do docker inspect --format '{{.Name}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{$v.Aliases}} {{end}}' $c; done`,
      'docker logs --tail 15 berth-edge-traefik-1 2>&1',
      // Who stopped what, and when: a colour that stays exited under restart: unless-stopped was
      // stopped through Docker's API (the events say which signal), and the retire timers' state.
      `for c in $(docker ps -aq --filter label=com.docker.compose.project=berth-${APP}); do docker inspect --format '{{.Name}} {{.Id}} started {{.State.StartedAt}} finished {{.State.FinishedAt}} exit {{.State.ExitCode}} oom {{.State.OOMKilled}}' $c; done`,
      `docker events --since 10m --until 0s --filter label=com.docker.compose.project=berth-${APP} --format '{{.Time}} {{.Action}} {{index .Actor.Attributes "name"}} {{index .Actor.Attributes "signal"}} {{.Actor.ID}}' | grep -v exec_`,
      `cat ${APP_DIR}/current.json; for f in ${APP_DIR}/retire-*.pid; do [ -f "$f" ] && echo "$f $(cat $f)"; done; ps -eo pid,pgid,lstart,args | grep '[r]etire'; date -u`,
    ].join('; echo ---; '), { allowFail: true });
    throw new Error(`${e.message} (last: ${last})\non ${H.name}:\n${seen.stdout}${seen.stderr}`);
  });
  return String(r.headers['x-release']);
}

const workerImage = () =>
  docker('ps', '--filter', `label=com.docker.compose.project=berth-${APP}`, '--filter', 'label=com.docker.compose.service=worker-jobs', '--format', '{{.Image}} {{.State}}');

before(async () => {
  resetApps([APP], H);
  await routeDomain(DOMAIN, H);
  p = makeProject('rel-e2e-', [H]);
  p.writeApp(APP, {
    image: `rel-e2e/${APP}`,
    build: { on: 'host' },
    hosts: [H.name],
    domains: [DOMAIN],
    www: 'none',
    port: 80,
    healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
    workers: { jobs: { command: 'testapp' } },
    // REL_SLOW widens the window in which a deploy holds the lock (the concurrency test).
    hooks: { pre_deploy: '[ -z "$REL_SLOW" ] || sleep "$REL_SLOW"' },
    deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 25, keep_releases: 2 },
  });
  // The app folder is the app's own git repository and its build context (Berth's project is not a repo).
  src = join(p.root, 'apps', APP);
  setCode('one');
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'one');
  const setup = await p.berth('setup', [H.name]);
  assert.equal(setup.code, 0, setup.all);
});

after(async () => {
  resetApps([APP], H);
  await unrouteDomainHost(DOMAIN);
  await onHost(H, `docker image ls -q 'rel-e2e/${APP}' | xargs -r docker image rm -f >/dev/null 2>&1; true`, { allowFail: true });
  p?.cleanup();
});

const ids: Record<string, string> = {};

test('the release follows the app repository: a commit and a dirty edit are new releases, served', async () => {
  const r1 = await deploy();
  assert.equal(r1.code, 0, r1.all);
  ids.one = outcome(r1.stdout).release;
  assert.ok(ids.one.startsWith(`${head()}-`), `${ids.one} starts with the app's commit ${head()}`);
  assert.equal(await served(), 'one');
  // compose/ keeps the offline plan render; the host's release has the real tag.
  assert.match(readFileSync(join(p.root, 'compose', APP, 'compose.yml'), 'utf8'), new RegExp(`image: rel-e2e/${APP}:build-context`));
  assert.match(await host(`cat ${APP_DIR}/releases/${ids.one}/compose.yml`), new RegExp(`image: rel-e2e/${APP}:${head()}\\n`));

  setCode('two');
  git('commit', '-q', '-am', 'two');
  const r2 = await deploy();
  assert.equal(r2.code, 0, r2.all);
  assert.equal(outcome(r2.stdout).result, 'deployed', 'an edit in the app repository is not "nothing changed"');
  ids.two = outcome(r2.stdout).release;
  assert.ok(ids.two.startsWith(`${head()}-`));
  assert.equal(await served(), 'two');

  setCode('three');
  const r3 = await deploy();
  assert.equal(r3.code, 0, r3.all);
  ids.three = outcome(r3.stdout).release;
  assert.match(ids.three, new RegExp(`^${head()}-dirty-[0-9a-f]{8}-`));
  assert.equal(await served(), 'three');
  assert.match(workerImage(), new RegExp(`^rel-e2e/${APP}:${head()}-dirty-[0-9a-f]{8} running$`));

  const again = await deploy();
  assert.equal(again.code, 0, again.all);
  assert.equal(outcome(again.stdout).result, 'noop', 'the same dirty tree is the same release');
});

test('rollback brings the workers back to that release too', async () => {
  const r = await p.berth('rollback', [APP]);
  assert.equal(r.code, 0, r.all);
  assert.equal((await current()).release, ids.two);
  assert.equal(await served(), 'two');
  const twoTag = ids.two!.split('-')[0];
  await waitFor('worker on the rolled-back release', async () => workerImage() === `rel-e2e/${APP}:${twoTag} running`, { timeoutMs: 20_000, intervalMs: 500 });
});

test('a no-op is never answered while another deploy holds the lock', async () => {
  // Live is "two" (its commit, clean). A deploy of another release holds the lock (its hook sleeps)
  // while the live release is deployed again from a clean tree.
  const live = (await current()).release;
  const slow = deploy(['--release', 'slow'], { REL_SLOW: '8' });
  await waitFor('the slow deploy holds the lock', () => hostOk(`test -f ${APP_DIR}/lock/holder.json`), { timeoutMs: 60_000, intervalMs: 200 });
  // The live release deployed again: without the lock this answered "nothing changed" and exit 0.
  git('stash', '-q');
  const same = await deploy();
  git('stash', 'pop', '-q');
  const s = await slow;
  assert.equal(s.code, 0, s.all);
  const slowId = outcome(s.stdout).release;
  assert.ok(slowId.startsWith('slow-'));
  assert.equal((await current()).release, slowId, 'the slow deploy ended live');
  if (same.code === 0) {
    assert.fail(`the concurrent deploy exited 0 (${same.stdout.trim()}) while ${slowId} replaced ${live}`);
  }
  assert.match(same.stderr, /LockError/);
  assert.match(same.stderr, /deploy rel-src slow-/, 'it names the deploy holding the lock');
});

test('a lock whose heartbeat stopped is taken over at once; a live heartbeat is respected', async () => {
  const holder = JSON.stringify({ user: 'ops', machine: 'another-machine', pid: 77, command: `deploy ${APP} x`, since: '2026-01-01T00:00:00Z' });
  await host(`mkdir -p ${APP_DIR}/lock && printf '%s\\n' '${holder}' > ${APP_DIR}/lock/holder.json`);
  // Fresh heartbeat: another machine is deploying right now.
  const refused = await deploy(['--release', 'held']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /LockError/);
  assert.match(refused.stderr, /ops@another-machine/);
  assert.match(refused.stderr, /heartbeat is \d+s old/);
  // Its heartbeat stopped a minute ago (another machine: its pid cannot be checked from here).
  await host(`touch -d '-60 seconds' ${APP_DIR}/lock/holder.json`);
  const took = await deploy(['--release', 'took']);
  assert.equal(took.code, 0, took.all);
  assert.match(took.all, /took over a lock left by a dead deploy \(its heartbeat stopped \d+s ago/);
  assert.ok((await current()).release.startsWith('took-'));
  assert.equal(await hostOk(`test -d ${APP_DIR}/lock`), false, 'the lock is released after the deploy');
});

test('keep_releases: old releases, their secret copies and images are pruned, never live/previous', async () => {
  // Deployed so far: one, two, three, slow, took (live; slow previous). The deploys already pruned
  // one and three (two was kept while its stopped container could be restarted by a rollback).
  const cur = await current();
  assert.deepEqual((await releasesOnHost()), [ids.two!, cur.previous!.release, cur.release].sort(), 'pruned by the deploys');
  const pr = await p.berth('prune', [APP, '--json']);
  assert.equal(pr.code, 0, pr.all);
  const out = JSON.parse(pr.stdout) as { pruned: string[]; kept: string[]; imagesRemoved: string[] }[];
  assert.deepEqual(out[0]!.pruned, [ids.two!], `two's container is gone now: ${pr.stdout}`);
  assert.deepEqual((await releasesOnHost()), [cur.previous!.release, cur.release].sort(), 'live and previous kept');
  assert.equal(await host(`ls /etc/berth/${APP}/releases/ | grep -c '^${ids.one}.env$' || true`), '0', 'its secret copy is gone');
  assert.equal(await host(`docker image ls -q rel-e2e/${APP}:${ids.one!.split('-')[0]}`), '', 'its image is gone');
  // A deploy prunes by itself: two more releases, and the list stays bounded.
  git('stash', '-q');
  for (const code of ['four', 'five']) {
    setCode(code);
    git('commit', '-q', '-am', code);
    const r = await deploy();
    assert.equal(r.code, 0, r.all);
    // The deploy's own account goes with a wait in vain (once, in two CI runs, this deploy
    // succeeded and then neither colour was running).
    assert.equal(await served().catch((e: Error) => { throw new Error(`${e.message}\n--- the deploy said:\n${r.all.slice(-4000)}`); }), code);
  }
  const left = (await releasesOnHost());
  assert.equal(left.length, 3, `five, four and took (its container is the stopped colour): ${left.join(', ')}`);
  assert.ok(!left.some((id) => id.startsWith('slow-')));
  // Rollback still works to the previous release after pruning.
  const rb = await p.berth('rollback', [APP]);
  assert.equal(rb.code, 0, rb.all);
  assert.equal(await served(), 'four');
});

test('history lists every deploy, rollback and failure with who, what and outcome', async () => {
  const r = await p.berth('history', [APP, '--json']);
  assert.equal(r.code, 0, r.all);
  const [h] = JSON.parse(r.stdout) as { host: string; entries: { action: string; outcome: string; release?: string; user: string; machine: string; configHash?: string; imageId?: string; error?: string }[] }[];
  assert.equal(h!.host, H.name);
  const e = h!.entries;
  const me = execFileSync('hostname', { encoding: 'utf8' }).trim();
  assert.ok(e.every((x) => x.machine === me && x.user), 'who: operator user and machine');
  const ok = e.filter((x) => x.action === 'deploy' && x.outcome === 'ok');
  assert.ok(ok.some((x) => x.release === ids.one && x.configHash && x.imageId), 'a deploy with its image and config hash');
  assert.equal(ok.length, 7, 'one, two, three, slow, took, four, five (no-ops are not recorded)');
  assert.equal(e.filter((x) => x.action === 'rollback' && x.outcome === 'ok').length, 2);
  const failed = e.filter((x) => x.outcome === 'failed');
  assert.ok(failed.length >= 2 && failed.every((x) => /lock/i.test(x.error ?? '')), 'refused deploys are recorded as failed with the reason');
  const text = await p.berth('history', [APP]);
  assert.equal(text.code, 0, text.all);
  assert.match(text.stdout, new RegExp(`^${H.name}:\\n`));
  assert.match(text.stdout, /rollback +ok +\S+ +by /);
});
