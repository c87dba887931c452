// registry: none on the swarm (lane swarm: h7 manager, h8, h9): Swarm may start a task on any node,
// so the image built here reaches EVERY node over SSH, only the layers each lacks, verified by
// image ID before it is tagged; the stack then runs it with no registry anywhere (3 replicas, the
// nodes' copies used as they are). A one-line change sends only its own layer to each node.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sandboxRequest, waitFor } from '../../src/sandbox/index.ts';
import { onHost } from '../../src/sandbox/fleet.ts';
import type { TestProject } from './support/project.ts';
import { ensureLaneUp, H7, LANE, onManager, swarmProject, tasksOf } from './support/swarm-lane.ts';

const APP = 'swship';
const IMAGE = 'swship-e2e/app';
const DOMAIN = 'swship.berth.test';
let p: TestProject;
let repo: string;
const commits: string[] = [];

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', '-c', 'init.defaultBranch=main', ...args], { cwd: repo, encoding: 'utf8' }).trim();

/** A commit of the app: the test app with a small layer of its own naming the release. */
function commitRelease(release: string): string {
  writeFileSync(join(repo, 'Dockerfile'), `FROM berth/testapp:v1\nRUN echo ${release} > /srv/ship-marker\nENV RELEASE=${release}\n`);
  git('add', '-A');
  git('commit', '-q', '-m', release);
  return git('rev-parse', '--short', 'HEAD');
}

const localImageId = (ref: string) => execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', ref], { encoding: 'utf8' }).trim();
const nodeImageId = async (h: (typeof LANE)[number], ref: string) => (await onHost(h, `docker image inspect --format '{{.Id}}' ${ref} 2>/dev/null`, { allowFail: true })).stdout.trim();
/** What Berth says it sent to a node: "<node>: <ref> loaded, verified as … and tagged; sent <raw> bytes of layers as <wire> bytes on the wire". */
const shipped = (out: string, host: string) => {
  const m = new RegExp(`${host}: \\S+ loaded, verified as \\w+ and tagged; sent (\\d+) bytes of layers`).exec(out);
  return m ? Number(m[1]) : undefined;
};
const viaEdge = () => sandboxRequest(`http://${H7.edgeAddress}/`, { headers: { host: DOMAIN }, timeoutMs: 10_000 });

describe('registry: none on a three-node swarm', { timeout: 900_000 }, () => {
  before(async () => {
    await ensureLaneUp();
    p = swarmProject('berth-e2e-swarm-ship-');
    repo = join(p.root, 'apps', APP, 'src');
    mkdirSync(repo, { recursive: true });
    git('init', '-q');
    p.writeApp(APP, {
      image: IMAGE,
      build: { context: 'src', on: 'local' },
      registry: 'none',
      cluster: 'sw',
      replicas: 3,
      domains: [DOMAIN],
      tls: { mode: 'none' },
      port: 80,
      healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '2s' },
      deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 60 },
    });
    // The lane may hold a previous run's app and images: start without them.
    await onManager(`docker stack rm berth-${APP} >/dev/null 2>&1; rm -rf /var/lib/berth/apps/${APP} /var/lib/berth/edge/dynamic/${APP}.yml; true`);
    const setup = await p.berth('setup', []);
    assert.equal(setup.code, 0, setup.all);
    await Promise.all(LANE.map((h) => onHost(h, `docker ps -aq --filter label=com.docker.stack.namespace=berth-${APP} | xargs -r docker rm -f >/dev/null 2>&1; docker images -q ${IMAGE} | xargs -r docker rmi -f >/dev/null 2>&1; true`, { allowFail: true })));
  });

  after(async () => {
    const r = await p?.berth('remove', [APP, '--yes']);
    assert.equal(r?.code, 0, r?.all);
    for (const c of commits) execFileSync('docker', ['image', 'rm', '-f', `${IMAGE}:${c}`], { stdio: 'ignore' });
    p?.cleanup();
  });

  test('every node gets the image built here over SSH, verified; three tasks run it with no registry', async () => {
    commits.push(commitRelease('s1'));
    const r = await p.berth('deploy', [APP, '--json']);
    assert.equal(r.code, 0, r.all);
    const ref = `${IMAGE}:${commits[0]}`;
    const id = localImageId(ref);
    for (const h of LANE) {
      assert.equal(await nodeImageId(h, ref), id, `${h.name} has the image built here`);
      assert.ok((shipped(r.all, h.name) ?? 0) > 0, `${h.name} received layers over SSH:\n${r.all}`);
    }
    assert.doesNotMatch(r.all, /docker login|pull /, 'no registry was asked');
    const [o] = JSON.parse(r.stdout) as { colour: string }[];
    const tasks = await tasksOf(`berth-${APP}_web-${o!.colour}`);
    assert.equal(tasks.length, 3, JSON.stringify(tasks));
    const served = await waitFor('the edge serves s1', async () => {
      const x = await viaEdge().catch(() => undefined);
      return x?.status === 200 && x.headers['x-release'] === 's1' ? x : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    assert.equal(served.status, 200);
  });

  test('a one-line change sends each node only its new layer', async () => {
    const full = Number((await onHost(LANE[0]!, `docker image inspect --format '{{.Size}}' ${IMAGE}:${commits[0]}`)).stdout.trim());
    commits.push(commitRelease('s2'));
    const r = await p.berth('deploy', [APP]);
    assert.equal(r.code, 0, r.all);
    for (const h of LANE) {
      const sent = shipped(r.all, h.name);
      assert.ok(sent !== undefined && sent > 0 && sent < 64 * 1024, `${h.name}: only the changed layer (sent ${sent} bytes; the image is ${full})`);
      assert.equal(await nodeImageId(h, `${IMAGE}:${commits[1]}`), localImageId(`${IMAGE}:${commits[1]}`));
    }
    await waitFor('the edge serves s2', async () => ((await viaEdge().catch(() => undefined))?.headers['x-release'] === 's2' ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
  });
});
