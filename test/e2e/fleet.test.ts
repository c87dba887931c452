// Several hosts as a user meets them: an app with `roles: [web]` on h1 + h2 behind the front load
// balancer (the sandbox's Cloudflare, Full (strict) with an origin certificate). A rolling deploy
// under load loses nothing; a health gate failing on the second host is reported host by host and
// a rerun converges; logs, exec, status and aliases reach every host or the one named; a host's
// identity_file is what Docker's own SSH connection uses.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type FrontContainer, run, sandboxRequest, startFront, startLoad, waitFor } from '../../src/sandbox/index.ts';
import { fleet, type MachineSpec } from './support/machines.ts';
import type { TestProject } from './support/project.ts';

const APP = 'ftfleet';
const DOMAIN = 'ftfleet.berth.test';
let F: ReturnType<typeof fleet>;
let p: TestProject;
let front: FrontContainer;
let originKey = '';
const env = () => ({ ORIGIN_KEY: originKey });

const appConfig = () => ({
  image: 'berth/testapp',
  roles: ['web'],
  domains: [DOMAIN],
  secrets: ['ORIGIN_KEY'],
  tls: { mode: 'origin-certificate', cert_file: 'origin.pem', key_secret: 'ORIGIN_KEY' },
  port: 80,
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
  // Against one database the hosts' release commands would race: it runs once per deploy.
  release_command: 'testapp migrate',
  aliases: { whoami: 'hostname', tail: 'berth:logs' },
  deploy: { retire_seconds: 3, stop_timeout_seconds: 10, health_timeout_seconds: 20 },
});

const deploy = (release: string) => p.berth('deploy', [APP, '--release', release, '--json'], env());
/** One request through the front, as Cloudflare forwards a visitor's request for DOMAIN. */
const viaFront = () => sandboxRequest(`${front.httpUrl}/`, { headers: { host: DOMAIN }, timeoutMs: 10_000 });
const statusRows = async (args: string[] = []) => {
  const r = await p.berth('status', [APP, '--json', ...args], env());
  assert.ok(r.stdout.trim().startsWith('['), r.all);
  return JSON.parse(r.stdout) as { host: string; release: string; colour: string; health: string }[];
};
/** The live container's hostname (its short id) on a host: what `hostname` run inside it prints. */
const liveContainer = (h: MachineSpec, colour: string) =>
  execFileSync('docker', ['--context', h.context, 'ps', '-q', '--filter', `label=com.docker.compose.project=berth-${APP}`, '--filter', `label=com.docker.compose.service=web-${colour}`], { encoding: 'utf8' }).trim();

describe('an app on two hosts behind the front', { timeout: 900_000 }, () => {
  let H1: MachineSpec;
  let H2: MachineSpec;

  before(async () => {
    F = fleet();
    [H1, H2] = [F.H1, F.H2];
    for (const h of [H1, H2]) F.resetApps([APP], h);
    p = F.makeProject('berth-e2e-fleet-', [H1, H2]);
    p.writeApp(APP, appConfig());
    const dir = join(p.root, 'apps', APP);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', `/CN=${DOMAIN}`,
      '-addext', `subjectAltName=DNS:${DOMAIN}`, '-keyout', join(dir, 'origin.key'), '-out', join(dir, 'origin.pem')], { stdio: 'ignore' });
    originKey = readFileSync(join(dir, 'origin.key'), 'utf8');
    const setup = await p.berth('setup', [], env());
    assert.equal(setup.code, 0, setup.all);
    // Full (strict): the front verifies each origin's certificate against the origin certificate.
    front = await startFront({ origins: [`https://${H1.address}`, `https://${H2.address}`], network: F.network, originCaPem: readFileSync(join(dir, 'origin.pem'), 'utf8') });
  });

  after(async () => {
    await front?.stop();
    if (F) for (const h of [F.H1, F.H2]) F.resetApps([APP], h);
    p?.cleanup();
  });

  test('roles: [web] deploys to h1 and h2; the front round-robins over both', async () => {
    const r = await deploy('v1');
    assert.equal(r.code, 0, r.all);
    const out = JSON.parse(r.stdout) as { host: string; result: string }[];
    assert.deepEqual(out.map((o) => [o.host, o.result]), [['h1', 'deployed'], ['h2', 'deployed']]);
    // Both hosts deployed at once (default batch), the release command ran on one of them only.
    assert.equal((r.all.match(/h[12]: release command already ran on h[12] in this deploy/g) ?? []).length, 1, r.all);
    const origins = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await waitFor('ftfleet through the front', async () => {
        const x = await viaFront().catch(() => undefined);
        return x?.status === 200 ? x : undefined;
      }, { timeoutMs: 30_000, intervalMs: 500 });
      assert.equal(res.headers['x-release'], 'v1');
      origins.add(String(res.headers['x-front-origin']));
    }
    assert.deepEqual([...origins].sort(), [`https://${H1.address}`, `https://${H2.address}`].sort(), 'both hosts answer through the front');
  });

  test('a rolling deploy v1 → v2 under 50 req/s through the front loses no request', async () => {
    const load = startLoad({
      url: front.httpUrl, ratePerSec: 50, maxRequests: 50 * 90, maxDurationMs: 90_000, timeoutMs: 10_000,
      mix: [{ kind: 'get', weight: 1, path: '/', headers: { host: DOMAIN } }],
    });
    await new Promise((r) => setTimeout(r, 2000));
    const r = await deploy('v2');
    const deployedAt = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    load.stop();
    const res = await load.done;
    assert.equal(r.code, 0, r.all);
    assert.equal(res.failures.length, 0, `failed requests: ${JSON.stringify(res.failures.slice(0, 5))} statuses ${JSON.stringify(res.statusCounts)}`);
    assert.ok(res.samples.length > 200, `load ran (${res.samples.length} requests)`);
    assert.ok((res.releaseCounts.v1 ?? 0) > 0 && (res.releaseCounts.v2 ?? 0) > 0, JSON.stringify(res.releaseCounts));
    const late = res.samples.filter((s) => s.startedAt > deployedAt + 1000);
    assert.ok(late.length > 0 && late.every((s) => s.release === 'v2'), 'after both hosts switched every answer is v2');
  });

  test('the health gate failing on the second host: the command says which host runs which release; a rerun converges', async () => {
    // The same tag is a healthy image on h1 and, on h2 only, one whose /up answers 500 (the host's
    // copy of the image is what it runs: the deploy finds it present and does not pull).
    const tag = 'ftgate';
    const mk = await F.onHost(H1, `docker tag berth/testapp:v2 berth/testapp:${tag}`);
    assert.equal(mk.code, 0);
    const bad = await F.onHost(H2, `docker rm -f ftgate-mk >/dev/null 2>&1; docker create --name ftgate-mk berth/testapp:v2 >/dev/null && docker commit --change 'ENV UP_STATUS=500' ftgate-mk berth/testapp:${tag} >/dev/null && docker rm ftgate-mk >/dev/null`);
    assert.equal(bad.code, 0, bad.stderr);
    const before = await statusRows();
    const h2Before = before.find((x) => x.host === 'h2')!.release;
    assert.match(h2Before, /^v2-/);

    const r = await deploy(tag);
    assert.notEqual(r.code, 0, 'the deploy fails');
    assert.match(r.stderr, /stopped at h2/);
    assert.match(r.stderr, new RegExp(`1 of 2 hosts run ${tag}-`));
    assert.match(r.stderr, new RegExp(`h1 +runs ${tag}-[\\w-]+ \\((blue|green)\\) — new release, deployed now`));
    assert.match(r.stderr, new RegExp(`h2 +runs ${h2Before} \\((blue|green)\\) — deploy failed here; its previous release keeps serving`));
    assert.match(r.stderr, /not healthy/, 'the cause is named');
    // What the message says is what runs.
    const mid = await statusRows();
    assert.match(mid.find((x) => x.host === 'h1')!.release, new RegExp(`^${tag}-`));
    assert.equal(mid.find((x) => x.host === 'h2')!.release, h2Before);
    for (let i = 0; i < 4; i++) assert.equal((await viaFront()).status, 200, 'both hosts keep serving');

    // Fix the cause on h2 and rerun: h1 is left alone, h2 converges.
    const fix = await F.onHost(H2, `docker tag berth/testapp:v2 berth/testapp:${tag}`);
    assert.equal(fix.code, 0);
    const again = await deploy(tag);
    assert.equal(again.code, 0, again.all);
    assert.deepEqual((JSON.parse(again.stdout) as { host: string; result: string }[]).map((o) => [o.host, o.result]), [['h1', 'noop'], ['h2', 'deployed']]);
    // Both on the same release (<tag>-<config hash>); a pulled release id also names each host's image
    // id, which differs here since h2's image was fixed by hand.
    const end = await statusRows();
    const base = (id: string) => /^(.*-[0-9a-f]{10})(-[0-9a-f]{12})?$/.exec(id)?.[1] ?? id;
    assert.equal(new Set(end.map((x) => base(x.release))).size, 1, JSON.stringify(end));
    assert.match(end[0]!.release, new RegExp(`^${tag}-`));
  });

  test('deploy.batch_size: 1 — the health gate failing in the first batch stops the rollout before the next host', async () => {
    // On h1 the tag answers /up with 500; on h2 it is healthy. One host per batch: h2 must not be touched.
    const tag = 'ftbatch';
    const bad = await F.onHost(H1, `docker rm -f ftbatch-mk >/dev/null 2>&1; docker create --name ftbatch-mk berth/testapp:v2 >/dev/null && docker commit --change 'ENV UP_STATUS=500' ftbatch-mk berth/testapp:${tag} >/dev/null && docker rm ftbatch-mk >/dev/null`);
    assert.equal(bad.code, 0, bad.stderr);
    assert.equal((await F.onHost(H2, `docker tag berth/testapp:v2 berth/testapp:${tag}`)).code, 0);
    const before = Object.fromEntries((await statusRows()).map((x) => [x.host, x.release]));
    p.writeApp(APP, { ...appConfig(), deploy: { ...appConfig().deploy, batch_size: 1 } });
    try {
      const r = await deploy(tag);
      assert.notEqual(r.code, 0, 'the deploy fails');
      assert.match(r.stderr, /stopped at h1:/);
      assert.match(r.stderr, new RegExp(`0 of 2 hosts run ${tag}-`));
      assert.match(r.stderr, /h2 +runs \S+ \((blue|green)\) — not attempted/);
      assert.deepEqual(Object.fromEntries((await statusRows()).map((x) => [x.host, x.release])), before, 'both hosts still run what they ran');
    } finally {
      p.writeApp(APP, appConfig());
    }
  });

  test('status, logs, exec and the aliases reach every host, or the one named with --host', async () => {
    const rows = await statusRows();
    assert.deepEqual(rows.map((x) => x.host).sort(), ['h1', 'h2']);
    const id = Object.fromEntries(rows.map((x) => [x.host, liveContainer(x.host === 'h1' ? H1 : H2, x.colour)]));
    assert.ok(id.h1 && id.h2 && id.h1 !== id.h2);
    assert.deepEqual((await statusRows(['--host', 'h2'])).map((x) => x.host), ['h2']);

    const ex = await p.berth('exec', [APP, 'hostname'], env());
    assert.equal(ex.code, 0, ex.all);
    assert.match(ex.stdout, new RegExp(`--- h1\\n${id.h1}\\n`));
    assert.match(ex.stdout, new RegExp(`--- h2\\n${id.h2}`));
    const one = await p.berth('exec', ['--host', 'h2', APP, 'hostname'], env());
    assert.equal(one.code, 0, one.all);
    assert.equal(one.stdout.trim(), id.h2);

    const logs = await p.berth('logs', [APP, '--tail', '5'], env());
    assert.equal(logs.code, 0, logs.all);
    assert.match(logs.stdout, /^h1 \| .*testapp\[/m);
    assert.match(logs.stdout, /^h2 \| .*testapp\[/m);
    const logsH1 = await p.berth('logs', [APP, '--host', 'h1', '--tail', '5'], env());
    assert.equal(logsH1.code, 0, logsH1.all);
    assert.match(logsH1.stdout, /testapp\[/);
    assert.doesNotMatch(logsH1.stdout, /^h2 \| /m);

    const who = await p.berth('alias', ['whoami', APP], env());
    assert.equal(who.code, 0, who.all);
    assert.ok(who.stdout.includes(id.h1!) && who.stdout.includes(id.h2!), who.stdout);
    const whoH1 = await p.berth('alias', ['whoami', '--host', 'h1', APP], env());
    assert.equal(whoH1.stdout.trim(), id.h1);
    const tail = await p.berth('alias', ['tail', APP], env());
    assert.equal(tail.code, 0, tail.all);
    assert.match(tail.stdout, /^h1 \| /m);
    assert.match(tail.stdout, /^h2 \| /m);
    const wrong = await p.berth('exec', ['--host', 'h3', APP, 'hostname'], env());
    assert.equal(wrong.code, 2, 'a host the app does not run on is a usage error');
    assert.match(wrong.stderr, /does not run on "h3"/);
  });

  test("identity_file is what the Docker context's own ssh uses (h2 accepts only that key)", async () => {
    const keyDir = mkdtempSync(join(tmpdir(), 'berth-e2e-key-'));
    const key = join(keyDir, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'berth-e2e-identity', '-f', key]);
    const closeMaster = () => run(['ssh', '-O', 'exit', `${H2.sshUser}@${H2.sshHost}`], { allowFail: true, timeoutMs: 5000 });
    // Out of band (the machine's console): h2 accepts only the new key; restored in finally.
    const swap = await F.onConsole(H2, 'cp /root/.ssh/authorized_keys /root/.ssh/authorized_keys.ftsave && cat > /root/.ssh/authorized_keys', { input: readFileSync(`${key}.pub`, 'utf8') });
    assert.equal(swap.code, 0, swap.stderr);
    const p2 = F.makeProject('berth-e2e-identity-', [H2]);
    try {
      await closeMaster();
      // The premise: ~/.ssh/config's identity for h2 is refused now, so only identity_file can work.
      const plain = await run(['ssh', '-o', 'BatchMode=yes', `${H2.sshUser}@${H2.sshHost}`, 'true'], { allowFail: true, timeoutMs: 20_000 });
      assert.notEqual(plain.code, 0, 'the sandbox key no longer logs in to h2');
      const hosts = F.hostsFor([H2]);
      hosts.hosts.h2!.identity_file = key;
      writeFileSync(join(p2.root, 'hosts.json'), JSON.stringify(hosts, null, 2));
      p2.writeApp(APP, { ...appConfig(), roles: undefined, hosts: ['h2'] });
      writeFileSync(join(p2.root, 'apps', APP, 'origin.pem'), readFileSync(join(p.root, 'apps', APP, 'origin.pem')));
      // setup's first connection to h2 is Docker's (docker --context … info).
      const setup = await p2.berth('setup', ['h2'], env());
      assert.equal(setup.code, 0, setup.all);
      const ex = await p2.berth('exec', [APP, 'hostname'], env());
      assert.equal(ex.code, 0, ex.all);
      const st = await p2.berth('status', [APP, '--json'], env());
      assert.equal(st.code, 0, st.all);
    } finally {
      await F.onConsole(H2, 'mv /root/.ssh/authorized_keys.ftsave /root/.ssh/authorized_keys');
      await closeMaster();
      p2.cleanup();
      rmSync(keyDir, { recursive: true, force: true });
    }
  });
});
