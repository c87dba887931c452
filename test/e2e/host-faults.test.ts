// A host's dockerd restarts, then the host reboots; Berth does not run in between. Every app,
// replicator and edge container comes back by itself and serves; Litestream resumes, and no write
// the app acknowledged before the reboot is lost (locally or in the replica).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { S3 } from '../../src/sandbox/config.ts';
import { httpRequest, waitFor } from '../../src/sandbox/index.ts';
import { fleet, type MachineSpec } from './support/machines.ts';
import type { TestProject } from './support/project.ts';

const RUN = randomBytes(3).toString('hex');
const APP = `ftfault${RUN}`;
const DOMAIN = `${APP}.berth.test`;
const PREFIX = `e2e-${RUN}`;
const env = { LITESTREAM_ACCESS_KEY_ID: S3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: S3.secretAccessKey };
let F: ReturnType<typeof fleet>;
let H: MachineSpec;
let p: TestProject;

const appConfig = () => ({
  image: 'berth/testapp',
  hosts: [H.name],
  domains: [DOMAIN],
  tls: { mode: 'none' },
  port: 80,
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 5, start_period: '1s' },
  volumes: { data: '/data' },
  secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
  release_command: 'testapp migrate',
  litestream: {
    databases: ['/data/app.sqlite3'],
    replica: { url: `s3://${S3.bucket}/${PREFIX}/testapp`, endpoint: S3.networkEndpoint, force_path_style: true },
    max_lag_seconds: 5,
  },
  deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 30 },
});

const get = (path: string) => httpRequest(`http://${DOMAIN}${path}`, { timeoutMs: 3000 });
const write = async () => {
  const r = await httpRequest(`http://${DOMAIN}/write`, { method: 'POST', body: 'x', timeoutMs: 3000 });
  assert.ok(r.status === 200 || r.status === 201, `write: HTTP ${r.status} ${r.body}`);
  return (JSON.parse(r.body) as { id: number }).id;
};
const docker = (...args: string[]) => execFileSync('docker', ['--context', H.context, ...args], { encoding: 'utf8' }).trim();

/** Every container Berth started on the host: compose project, service, state, health. */
function containers(): { project: string; service: string; state: string; health: string }[] {
  const fmt = '{{index .Config.Labels "com.docker.compose.project"}} {{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}}';
  const ids = docker('ps', '-aq', '--filter', 'label=com.docker.compose.project').split('\n').filter(Boolean);
  return docker('inspect', '--format', fmt, ...ids)
    .split('\n')
    .map((l) => l.split(' '))
    .map(([project, service, state, health]) => ({ project: project!, service: service!, state: state!, health: health! }));
}

/** Without Berth: the live colour healthy, the replicator and the edge running, the app answering. */
async function everythingBack(liveColour: string) {
  await waitFor('the app serving again', async () => (await get('/up').catch(() => undefined))?.status === 200, { timeoutMs: 90_000, intervalMs: 1000 });
  const want = [
    { project: `berth-${APP}`, service: `web-${liveColour}`, health: 'healthy' },
    { project: `berth-${APP}`, service: 'litestream' },
    { project: 'berth-edge', service: 'traefik' },
    { project: 'berth-edge', service: 'socket-proxy' },
  ];
  const seen = await waitFor('every container running', async () => {
    const cs = containers();
    return want.every((w) => cs.some((c) => c.project === w.project && c.service === w.service && c.state === 'running' && (!w.health || c.health === w.health))) ? cs : undefined;
  }, { timeoutMs: 60_000, intervalMs: 1000 });
  const web = seen.filter((c) => c.project === `berth-${APP}` && c.service.startsWith('web-') && c.state === 'running');
  assert.deepEqual(web.map((c) => c.service), [`web-${liveColour}`], 'only the live colour runs (a retired colour stays stopped)');
}

/**
 * Litestream replicates again: backup:status has no problem for the database (replicator up and
 * replicating, storage reachable, replica within max_lag_seconds) other than a verification not yet run.
 */
async function replicating() {
  await write();
  await waitFor('backup:status green', async () => {
    const r = await p.berth('backup-status', [APP, '--json'], env);
    const json = JSON.parse(r.stdout) as { databases: { problems: string[]; lagSeconds?: number }[] };
    const ok = json.databases.length > 0 && json.databases.every((d) => d.lagSeconds !== undefined && d.problems.every((x) => x.startsWith('never verified')));
    if (!ok) throw new Error(`not yet: ${JSON.stringify(json.databases.map((d) => d.problems))}`);
    return true;
  }, { timeoutMs: 60_000, intervalMs: 2000 });
}

// On h14, the data lane's machine (test/e2e/lanes.ts): beside the main lane, not in it.
describe('host faults on h14: dockerd restart and reboot', { timeout: 600_000 }, () => {
  let colour = '';

  before(async () => {
    F = fleet();
    H = F.H14;
    F.setDomainHost(DOMAIN, H.edgeAddress);
    F.resetApps([APP], H);
    p = F.makeProject('berth-e2e-faults-', [H]);
    p.writeApp(APP, appConfig());
    const setup = await p.berth('setup', [H.name], env);
    assert.equal(setup.code, 0, setup.all);
    // Two releases, so a retired colour exists (stopped) when the faults hit.
    for (const v of ['v1', 'v2']) {
      const r = await p.berth('deploy', [APP, '--release', v, '--json'], env);
      assert.equal(r.code, 0, r.all);
      colour = (JSON.parse(r.stdout) as { colour: string }[])[0]!.colour;
    }
    await waitFor('retired colour stopped', async () => containers().filter((c) => c.project === `berth-${APP}` && c.service.startsWith('web-') && c.state === 'running').length === 1, {
      timeoutMs: 30_000, intervalMs: 1000,
    });
    await replicating();
  });

  after(() => {
    if (F) {
      F.resetApps([APP], H);
      F.setDomainHost(DOMAIN, undefined);
    }
    p?.cleanup();
  });

  test("restarting the host's dockerd brings the app, its replicator and the edge back, serving, without Berth", async () => {
    const ours = () => containers().filter((c) => c.state === 'running' && [`berth-${APP}`, 'berth-edge'].includes(c.project)).map((c) => `${c.project}/${c.service}`).sort();
    const before = ours();
    await F.restartDocker(H);
    await everythingBack(colour);
    assert.deepEqual(ours(), before, 'the same containers run as before');
    assert.equal((await get('/')).headers['x-release'], 'v2');
    await replicating();
  });

  test('rebooting the host: everything comes back; Litestream resumes; no acknowledged write is lost', async () => {
    const acked: number[] = [];
    for (let i = 0; i < 20; i++) acked.push(await write());
    await F.rebootHost(H);
    await everythingBack(colour);
    const rows = JSON.parse((await get(`/rows?after=${acked[0]! - 1}`)).body) as { id: number }[];
    const have = new Set(rows.map((r) => r.id));
    assert.deepEqual(acked.filter((id) => !have.has(id)), [], 'every write acknowledged before the reboot is in the database');
    await replicating();
    // The replica holds them too: a restore of the latest replica equals the live database.
    const v = await p.berth('backup-verify', [APP], env);
    assert.equal(v.code, 0, v.all);
  });
});
