// registry: none on two hosts (h10 + h11, lane "transfer"): the image Berth builds here reaches each
// host over SSH, only the layers it lacks. A fresh host gets the whole image; a small change sends
// only the changed layer (counted by Berth AND by a byte counter on each host's sshd port); an SSH
// cut mid-transfer fails clearly, leaves no tag, and the rerun sends only what had not arrived,
// while both hosts keep serving under load; retention prunes the oldest release's image but keeps
// what the kept ones use; a rollback finds its image (re-tagged from this machine when its tag went).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hostSpec } from '../../src/sandbox/config.ts';
import { sandboxRequest, startLoad, waitFor, type LoadHandle } from '../../src/sandbox/index.ts';
import { berthArgv, cutSsh, makeProject, onConsole, resetApps, restoreSsh, type BerthRun, type TestProject } from './support/project.ts';

const APP = 'transferapp';
const IMAGE = 'transfer-e2e/app';
const DOMAIN = 'transfer-e2e.berth.test';
const H10 = hostSpec('h10');
const H11 = hostSpec('h11');
const HOSTS = [H10, H11];
const MiB = 2 ** 20;

let p: TestProject;
let repo: string;
let cache: string;
const env = () => ({ BERTH_IMAGE_CACHE: cache });

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', '-c', 'init.defaultBranch=main', ...args], { cwd: repo, encoding: 'utf8' }).trim();

/** A commit of the app: its release name and a payload of random (incompressible) bytes in a layer of its own. */
function commitRelease(release: string, payloadBytes: number): string {
  writeFileSync(join(repo, 'Dockerfile'), `FROM berth/testapp:v1\nCOPY payload.bin /srv/payload.bin\nENV RELEASE=${release}\n`);
  writeFileSync(join(repo, 'payload.bin'), randomBytes(payloadBytes));
  git('add', '-A');
  git('commit', '-q', '-m', release);
  return git('rev-parse', '--short', 'HEAD');
}

const onBoth = (script: string) => Promise.all(HOSTS.map((h) => onConsole(h, script, { allowFail: true })));
const hostImageId = async (h: typeof H10, ref: string) => (await onConsole(h, `docker image inspect --format '{{.Id}}' ${ref} 2>/dev/null`, { allowFail: true })).stdout.trim();
const localImageId = (ref: string) => execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', ref], { encoding: 'utf8' }).trim();

/** What Berth says it sent to `host`: "<host>: <ref> loaded, … sent <raw> bytes of layers as <wire> bytes on the wire". */
function shipped(out: string, host: string): { raw: number; wire: number } | undefined {
  const m = new RegExp(`${host}: \\S+ loaded, verified as \\w+ and tagged; sent (\\d+) bytes of layers as (\\d+) bytes on the wire`).exec(out);
  return m ? { raw: Number(m[1]), wire: Number(m[2]) } : undefined;
}

// A byte counter on each host: a rule with no target counts what reaches its sshd (every SSH session
// of the deploy, Docker's own included), independently of what Berth reports.
const COUNT_RULE = '-p tcp --dport 22 -m comment --comment berth-transfer-count';
const SLOW_RULE = '-p tcp --dport 22 -m hashlimit --hashlimit-above 3mb/s --hashlimit-burst 4mb --hashlimit-mode dstport --hashlimit-name berthslow -m comment --comment berth-transfer-slow -j DROP';
const resetCounter = () => onBoth(`while iptables -D INPUT ${COUNT_RULE} 2>/dev/null; do :; done; iptables -I INPUT 1 ${COUNT_RULE}`);
async function sshBytesIn(h: typeof H10): Promise<number> {
  const r = await onConsole(h, `iptables -L INPUT -v -x -n | awk '/berth-transfer-count/ { print $2 }'`);
  return Number(r.stdout.trim().split('\n')[0]);
}

function deploy(args: string[] = []): Promise<BerthRun> {
  return p.berth('deploy', [APP, ...args], env());
}

/** A deploy as a child process we can watch while it runs. */
function deployInBackground(): { done: Promise<BerthRun> } {
  const child = spawn(...berthArgv('deploy', [APP]), { env: { ...process.env, BERTH_ROOT: p.root, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  return {
    done: new Promise((resolve) => child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr, all: stdout + stderr });
    })),
  };
}

const get = (h: typeof H10) => sandboxRequest(`http://${DOMAIN}/`, { resolveTo: h.edgeAddress, timeoutMs: 10_000 });
async function serves(h: typeof H10, release: string) {
  return waitFor(`${h.name} serves ${release}`, async () => {
    const r = await get(h).catch(() => undefined);
    return r?.status === 200 && r.headers['x-release'] === release ? r : undefined;
  }, { timeoutMs: 30_000, intervalMs: 500 });
}

const cleanHosts = () =>
  onBoth(
    `docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^(transfer-e2e/|berth/testapp|berth/railsapp|transfer-bench/)' | xargs -r docker rmi -f >/dev/null 2>&1; ` +
      'docker image prune -f >/dev/null 2>&1; rm -rf /var/lib/berth/images',
  );

describe('registry: none — images over SSH, only the missing layers', { timeout: 900_000 }, () => {
  const commits: string[] = [];

  before(async () => {
    for (const h of HOSTS) resetApps([APP], h);
    await cleanHosts();
    cache = mkdtempSync(join(tmpdir(), 'berth-e2e-imgcache-'));
    p = makeProject('berth-e2e-transfer-', HOSTS);
    repo = join(p.root, 'apps', APP, 'src');
    mkdirSync(repo, { recursive: true });
    git('init', '-q');
    p.writeApp(APP, {
      image: IMAGE,
      build: { context: 'src', on: 'local' },
      registry: 'none',
      hosts: ['h10', 'h11'],
      domains: [DOMAIN],
      tls: { mode: 'none' },
      port: 80,
      healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
      deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 30, keep_releases: 2 },
    });
    const setup = await p.berth('setup', [], env());
    assert.equal(setup.code, 0, setup.all);
  });

  after(async () => {
    await Promise.all(HOSTS.map((h) => restoreSsh(h).catch(() => {})));
    await onBoth(`while iptables -D INPUT ${COUNT_RULE} 2>/dev/null; do :; done; while iptables -D INPUT ${SLOW_RULE} 2>/dev/null; do :; done`);
    for (const h of HOSTS) resetApps([APP], h);
    await cleanHosts();
    for (const c of commits) execFileSync('docker', ['image', 'rm', '-f', `${IMAGE}:${c}`], { stdio: 'ignore' });
    p?.cleanup();
    rmSync(cache, { recursive: true, force: true });
  });

  test('first deploy with no registry: both hosts get the layers they lack over SSH and run the image built here', async () => {
    commits.push(commitRelease('r1', MiB));
    const r = await deploy();
    assert.equal(r.code, 0, r.all);
    const ref = `${IMAGE}:${commits[0]}`;
    const id = localImageId(ref);
    for (const h of HOSTS) {
      await serves(h, 'r1');
      assert.equal(await hostImageId(h, ref), id, `${h.name} runs the image built here (same image ID)`);
      const s = shipped(r.all, h.name);
      assert.ok(s, `${h.name}: Berth reports what it shipped\n${r.all}`);
      // The layers the edge's images share with berth/testapp (Debian) are not sent again; r1's own payload is.
      assert.match(r.all, new RegExp(`${h.name}: shipping \\S+ \\(\\w+\\): [1-9]\\d* of \\d+ layers missing`));
      assert.ok(s.raw >= MiB, `${h.name}: the app's layers went (${s.raw} bytes)`);
      assert.ok(s.wire <= s.raw + 64 * 1024, `${h.name}: the blobs and a tar's framing on the wire (${s.wire} for ${s.raw})`);
    }
    assert.doesNotMatch(r.all, /docker (pull|login)/);
    // The layers left the local engine through Berth's push sink on this machine's loopback, not a registry.
    assert.match(r.all, /layers taken from the local engine by a push to the local push sink/);
    // Nothing is left staged once the image is loaded.
    for (const h of HOSTS) assert.equal((await onConsole(h, 'ls -A /var/lib/berth/images | grep -v "^.lock$" || true')).stdout.trim(), '');
  });

  test('a small change sends only the changed layer (Berth\'s count and each host\'s sshd byte counter)', async () => {
    commits.push(commitRelease('r2', MiB));
    await resetCounter();
    const r = await deploy();
    assert.equal(r.code, 0, r.all);
    for (const h of HOSTS) {
      await serves(h, 'r2');
      const s = shipped(r.all, h.name);
      assert.ok(s, r.all);
      // The payload is random: its layer cannot shrink, so at least the payload went, and at most
      // the layer plus 10 % (the config and tar headers are a few KiB).
      assert.ok(s.wire >= MiB, `${h.name}: the changed layer went (${s.wire} bytes)`);
      assert.ok(s.wire <= 1.1 * MiB, `${h.name}: only the changed layer went: ${s.wire} bytes on the wire for a ${MiB}-byte layer`);
      const counted = await sshBytesIn(h);
      // Everything the deploy sent to the host's sshd (release files, compose, checks) stays far below the base image's hundreds of MiB.
      assert.ok(counted >= MiB && counted < MiB + 3 * MiB, `${h.name}: ${counted} bytes reached sshd during the deploy`);
      assert.match(r.all, new RegExp(`${h.name}: shipping \\S+ \\(\\w+\\): 1 of \\d+ layers missing`));
    }
  });

  test('an SSH cut mid-transfer fails clearly and tags nothing; the rerun sends only the rest; 0 failed requests', async () => {
    commits.push(commitRelease('r3', 24 * MiB));
    const ref = `${IMAGE}:${commits[2]}`;
    const loads: LoadHandle[] = HOSTS.map((h) =>
      startLoad({ url: `http://${DOMAIN}/`, request: { resolveTo: h.edgeAddress }, ratePerSec: 10, maxRequests: 10 * 240, maxDurationMs: 240_000, timeoutMs: 10_000 }),
    );
    try {
      // A slow link to h10 (about 3 MB/s) so the cut lands mid-transfer.
      await onConsole(H10, `iptables -I INPUT 1 ${SLOW_RULE}`);
      const run = deployInBackground();
      const staged = await waitFor('h10 has staged part of the new layer', async () => {
        const r = await onConsole(H10, 'du -sb /var/lib/berth/images/*/ 2>/dev/null | awk "{ s += \\$1 } END { print s + 0 }"', { allowFail: true });
        const n = Number(r.stdout.trim());
        return n >= 3 * MiB ? n : undefined;
      }, { timeoutMs: 120_000, intervalMs: 200 });
      await cutSsh(H10);
      const cut = await run.done;
      assert.notEqual(cut.code, 0, 'the deploy fails');
      assert.match(cut.all, /h10/);
      assert.match(cut.all, /stopped at h10: lost the SSH connection to h10 during "image"/);
      assert.match(cut.all, /Nothing switched: the old release \S+ keeps serving/);
      assert.match(cut.all, /h11 +runs \S+ \((blue|green)\) — new release, deployed now/);
      assert.doesNotMatch(cut.all, /at .*\.ts:\d+/, 'no stack trace');
      // No half image: the new tag does not exist on h10, and it still serves r2.
      assert.equal(await hostImageId(H10, ref), '', 'nothing tagged on h10');
      assert.equal((await get(H10)).headers['x-release'], 'r2');
      await onConsole(H10, `while iptables -D INPUT ${SLOW_RULE} 2>/dev/null; do :; done`);
      await restoreSsh(H10);
      const left = Number((await onConsole(H10, 'du -sb /var/lib/berth/images/*/ | awk "{ s += \\$1 } END { print s + 0 }"')).stdout.trim());
      assert.ok(left >= staged, `the staged part is kept on h10 (${left} bytes)`);

      const rerun = await deploy();
      assert.equal(rerun.code, 0, rerun.all);
      const resumed = /h10: shipping \S+ \(\w+\): 1 of \d+ layers missing, .* already staged by an interrupted transfer/.exec(rerun.all);
      assert.ok(resumed, `h10 resumes the staged transfer\n${rerun.all}`);
      const s = shipped(rerun.all, 'h10');
      assert.ok(s && s.raw <= 24 * MiB + 64 * 1024 - left + 4096, `h10: the rerun sends only what had not arrived (${s?.raw} bytes after ${left} staged)`);
      assert.equal(await hostImageId(H10, ref), localImageId(ref));
      for (const h of HOSTS) await serves(h, 'r3');
    } finally {
      for (const l of loads) l.stop();
    }
    const results = await Promise.all(loads.map((l) => l.done));
    results.forEach((res, i) => {
      assert.equal(res.failures.length, 0, `${HOSTS[i]!.name}: failed requests ${JSON.stringify(res.failures.slice(0, 3))} ${JSON.stringify(res.statusCounts)}`);
      assert.ok(res.samples.length > 50, `${HOSTS[i]!.name}: load ran (${res.samples.length} requests)`);
    });
  });

  test('retention: the oldest release image goes, the kept ones (and every layer they use) stay; a rollback finds its image', async () => {
    // keep_releases: 2 — r2 (previous) and r3 (live) stay; r1 goes once its stopped container is gone
    // (the deploy of r3 replaced it: prune reads the host again).
    const pr = await p.berth('prune', [APP], env());
    assert.equal(pr.code, 0, pr.all);
    for (const h of HOSTS) assert.match(pr.all, new RegExp(`${h.name}: pruned 1 release\\(s\\) of ${APP} beyond keep_releases=2 and 1 image\\(s\\)`));
    for (const h of HOSTS) {
      assert.equal(await hostImageId(h, `${IMAGE}:${commits[0]}`), '', `${h.name}: r1's image was pruned`);
      for (const c of commits.slice(1)) assert.equal(await hostImageId(h, `${IMAGE}:${c}`), localImageId(`${IMAGE}:${c}`), `${h.name}: ${c} kept, whole`);
    }
    // r2's colour retires retire_seconds after r3 took over. Wait for it on both hosts: inside that
    // window the rollback reuses the running container and needs no image (a quiet machine gets here first).
    for (const h of HOSTS) {
      await waitFor(`${h.name}: r2's colour retired`, async () => {
        const web = await onConsole(h, `docker ps --filter label=com.docker.compose.project=berth-${APP} --format '{{.Label "com.docker.compose.service"}}' | grep -c '^web-' || true`, { allowFail: true });
        return web.stdout.trim() === '1' ? true : undefined;
      }, { timeoutMs: 60_000, intervalMs: 500 });
    }
    // An operator removed r2's image on h11 (docker image rm -f): the rollback ships it again from
    // this machine, and only r2's own layer goes, the base layers being r3's too.
    // From a fresh cache, by docker save (the export where the engine cannot reach Berth's push sink).
    await onConsole(H11, `docker image rm -f ${IMAGE}:${commits[1]} >/dev/null`);
    // On h10 only the tag goes (another tag keeps the image): the rollback tags it again, sending nothing.
    await onConsole(H10, `docker tag ${IMAGE}:${commits[1]} transfer-e2e/keep:r2 && docker image rm ${IMAGE}:${commits[1]} >/dev/null`);
    const fresh = mkdtempSync(join(tmpdir(), 'berth-e2e-imgcache-save-'));
    const r = await p.berth('rollback', [APP], { BERTH_IMAGE_CACHE: fresh, BERTH_IMAGE_EXPORT: 'save' }).finally(() => rmSync(fresh, { recursive: true, force: true }));
    assert.equal(r.code, 0, r.all);
    assert.match(r.all, /layers taken from the local engine by docker save \(the whole image\)/);
    assert.match(r.all, /h11: image \S+ of release \S+ is missing; shipping it from this machine over SSH/);
    assert.match(r.all, /h11: shipping \S+ \(\w+\): 1 of \d+ layers missing, 1\.0 MiB to send/);
    const s = shipped(r.all, 'h11');
    assert.ok(s && s.wire >= MiB && s.wire <= 1.1 * MiB, `h11: only r2's own layer went (${s?.wire} bytes)`);
    assert.match(r.all, /h10: the host has \w+, not under this tag .*: tagging it/);
    assert.doesNotMatch(r.all, /h10: shipping/, "h10 kept r2's image: nothing to send");
    for (const h of HOSTS) await serves(h, 'r2');
  });

  test('a host whose disk is too small: a clear error before anything is sent; the other host deploys', async () => {
    // h11's staging folder on a 1 MiB file system (the probe reads it with df, as any disk).
    await onConsole(H11, 'mkdir -p /var/lib/berth/images && mount -t tmpfs -o size=1m berth-small /var/lib/berth/images');
    try {
      commits.push(commitRelease('r4', 4 * MiB));
      await resetCounter();
      const r = await deploy();
      assert.notEqual(r.code, 0, 'the deploy fails on h11');
      assert.match(r.all, /image \(h11\): cannot ship \S+: 1\.0 MiB free on \/var\/lib\/berth\/images\/\w+ \(berth-small\), the image needs [\d.]+ MiB .*nothing was sent/);
      assert.match(r.all, /h10 +runs \S+ \((blue|green)\) — new release, deployed now/);
      assert.ok((await sshBytesIn(H11)) < MiB, 'nothing of the image reached h11');
      assert.equal((await get(H11)).headers['x-release'], 'r2', 'h11 keeps serving its release');
      await serves(H10, 'r4');
    } finally {
      await onConsole(H11, 'umount /var/lib/berth/images', { allowFail: true });
    }
  });
});
