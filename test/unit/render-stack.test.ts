// stack.yml of a cluster app (src/plan/render-stack.ts) against its golden file, and what the
// Swarm engine relies on in it: dnsrr colours carrying Traefik's swarm labels, replicas, placement,
// pinned state, Swarm secrets/configs, never a secret value; plus the merge each deploy step makes.
// When the docker CLI is here, the golden file must pass `docker stack config`.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { renderClusterApp } from '../../src/plan/render-cluster-app.ts';
import { renderClusterRouting } from '../../src/plan/render-cluster-routing.ts';
import { renderClusterEdge, renderClusterTransport } from '../../src/plan/render-cluster-edge.ts';
import { mergeStack, stackReplicas } from '../../src/plan/stack-merge.ts';
import { swarmSecretName } from '../../src/plan/render-stack.ts';
import { clusterSchema, hostSchema } from '../../src/config/schema.ts';
import { makeApp, makeProject } from './plan-fixtures.ts';

const golden = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'swarm');
const update = process.env.BERTH_UPDATE_GOLDEN === '1';

const shop = makeApp('shop', {
  cluster: 'main', image: 'ghcr.io/acme/shop', replicas: 3, hosts: ['n2'], domains: ['shop.example.com'],
  secrets: ['SECRET_KEY_BASE', 'PGPASSWORD'],
  env: { RAILS_ENV: 'production', GREETING: 'key ${SECRET_KEY_BASE}' }, per_host_volumes: ['cache'], volumes: { cache: '/rails/tmp/cache' },
  workers: { jobs: { command: 'bin/jobs', replicas: 2 } }, release_command: 'bin/rails db:migrate', resources: { memory: '512m', cpus: 1.5 },
  accessories: { db: { image: 'postgres:16', volumes: { pgdata: '/var/lib/postgresql/data' }, secrets: ['PGPASSWORD'], backup: { schedule: 'daily' } } },
  deploy: { stop_timeout_seconds: 20 },
});
const sqlite = makeApp('notes', {
  cluster: 'main', image: 'ghcr.io/acme/notes', hosts: ['n2'], domains: ['notes.example.com'], volumes: { storage: '/rails/storage' },
  secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
  litestream: { databases: ['/rails/storage/production.sqlite3'], replica: { url: 's3://backups/notes', endpoint: 'http://s3:9000', force_path_style: true } },
});
const project = {
  ...makeProject([shop, sqlite]),
  hosts: Object.fromEntries(['n1', 'n2', 'n3'].map((n, i) => [n, hostSchema.parse({ ssh: `root@192.0.2.${i + 1}`, private_ip: `10.0.0.${i + 1}`, roles: ['web'] })])),
  clusters: { main: clusterSchema.parse({ engine: 'swarm', hosts: ['n1', 'n2', 'n3'], managers: ['n1'] }) },
};

function checkGolden(name: string, content: string) {
  const path = join(golden, name);
  if (update) return writeFileSync(path, content);
  assert.ok(existsSync(path), `missing golden ${path} (BERTH_UPDATE_GOLDEN=1)`);
  assert.equal(content, readFileSync(path, 'utf8'), `${name} differs from its golden file (BERTH_UPDATE_GOLDEN=1 to accept)`);
}

type Doc = { services: Record<string, Record<string, any>>; secrets: Record<string, { name: string; external: boolean }>; networks: Record<string, unknown>; configs?: Record<string, unknown> };
const parse = (text: string) => YAML.parse(text) as Doc;

describe('stack.yml', () => {
  const plan = renderClusterApp(project, shop, { release: 'golden1' });
  const stack = plan.files.find((f) => f.path === 'stack.yml')!.content;

  test('golden files (plan render: secret names left to BERTH_SECRETS_VERSION)', () => {
    if (update && !existsSync(golden)) execFileSync('mkdir', ['-p', golden]);
    for (const f of plan.files) checkGolden(`shop.${f.path}`, f.content);
    for (const f of renderClusterApp(project, sqlite, { release: 'golden1' }).files) checkGolden(`notes.${f.path}`, f.content);
    assert.deepEqual(renderClusterApp(project, shop, { release: 'golden1' }), plan, 'deterministic');
    assert.deepEqual(plan.hosts, ['n1'], 'routes live on the managers');
  });

  test('web colours: replicas, dnsrr, placement, Traefik swarm labels per colour, limits', () => {
    const doc = parse(stack);
    for (const c of ['blue', 'green']) {
      const w = doc.services[`web-${c}`]!;
      assert.equal(w.deploy.replicas, 3);
      assert.equal(w.deploy.endpoint_mode, 'dnsrr', 'no IPVS needed');
      assert.deepEqual(w.deploy.placement.constraints, ['node.labels.berth.cluster == main', 'node.labels.berth.host == n2']);
      assert.equal(w.deploy.labels[`traefik.http.services.shop-${c}.loadbalancer.server.port`], '80');
      assert.equal(w.deploy.labels[`traefik.http.services.shop-${c}.loadbalancer.healthcheck.path`], '/up');
      assert.equal(w.deploy.labels[`traefik.http.routers.shop-${c}-probe.entrypoints`], 'traefik', 'the only router in labels sits on the host-local API port');
      assert.deepEqual(w.deploy.resources, { limits: { memory: '512m', cpus: '1.5' } });
      assert.deepEqual(Object.keys(w.networks).sort(), ['berth-cluster', 'default']);
      assert.equal(w.restart, undefined);
      assert.equal(w.stop_grace_period, '20s');
    }
    assert.equal(doc.services['worker-jobs']!.deploy.replicas, 2);
    assert.deepEqual(Object.keys(doc.services['worker-jobs']!.networks), ['default'], 'workers are not on the edge network');
  });

  test('secrets are external Swarm secrets, one name per set of values; no value anywhere', () => {
    const doc = parse(stack);
    assert.equal(doc.secrets.SECRET_KEY_BASE!.external, true);
    assert.match(doc.secrets.SECRET_KEY_BASE!.name, /^berth-shop-SECRET_KEY_BASE-\$\{BERTH_SECRETS_VERSION:\?/);
    const concrete = renderClusterApp(project, shop, { release: 'golden1', secretsVersion: 'abcdef123456' }).files.find((f) => f.path === 'stack.yml')!.content;
    assert.equal(parse(concrete).secrets.SECRET_KEY_BASE!.name, 'berth-shop-SECRET_KEY_BASE-abcdef123456');
    assert.deepEqual(doc.services['web-blue']!.secrets, [{ source: 'PGPASSWORD', target: 'PGPASSWORD' }, { source: 'SECRET_KEY_BASE', target: 'SECRET_KEY_BASE' }]);
    // The env keeps the reference as text for the wrapper (never the value).
    assert.equal(doc.services['web-blue']!.environment.GREETING, 'key $${SECRET_KEY_BASE}');
    const long = swarmSecretName('a-very-long-application-name-indeed', 'AN_EXTREMELY_LONG_SECRET_NAME_FOR_TESTING', 'abcdef123456');
    assert.ok(long.length <= 64 && long.endsWith('-abcdef123456'), long);
  });

  test('state: accessories and dump loops pinned with their volume; the release command is a job in its own stack', () => {
    const doc = parse(stack);
    assert.equal(doc.services.db!.deploy.replicas, 1);
    assert.deepEqual(doc.services.db!.deploy.placement.constraints, ['node.labels.berth.cluster == main', 'node.labels.berth.host == n2']);
    assert.deepEqual(doc.services.db!.volumes, ['pgdata:/var/lib/postgresql/data']);
    assert.equal(doc.services.db!.ports, undefined);
    assert.ok(doc.services['db-backup']);
    const job = parse(plan.files.find((f) => f.path === 'stack.release.yml')!.content);
    assert.equal(job.services.release!.deploy.mode, 'replicated-job');
    assert.deepEqual(job.services.release!.deploy.restart_policy, { condition: 'none' });
    assert.equal(job.services.release!.command, 'bin/rails db:migrate');
    assert.deepEqual(job.networks, { default: { external: true, name: 'berth-shop_swarm' } }, "runs on the app's own network");
    assert.deepEqual(parse(stack).networks.default, { driver: 'overlay', name: 'berth-shop_swarm' }, 'apart from the compose project\'s berth-shop_default');
  });

  test('SQLite + Litestream: one task next to its replicator, litestream.yml as a Swarm config', () => {
    const doc = parse(renderClusterApp(project, sqlite, { release: 'golden1' }).files.find((f) => f.path === 'stack.yml')!.content);
    assert.equal(doc.services['web-blue']!.deploy.replicas, 1);
    const ls = doc.services.litestream!;
    assert.deepEqual(ls.deploy.placement.constraints, doc.services['web-blue']!.deploy.placement.constraints, 'the replicator runs beside the database');
    assert.deepEqual(ls.configs, [{ source: 'litestream', target: '/etc/litestream.yml' }]);
    assert.equal(ls.labels['com.docker.compose.service'], 'litestream', 'backup:* find the replicator as on a host');
    assert.match((doc.configs!.litestream as { name: string }).name, /^berth-notes-litestream-[0-9a-f]{12}$/);
  });

  test('the golden stack files pass `docker stack config`', { skip: spawnSync('docker', ['stack', 'config', '--help']).status !== 0 && 'docker CLI without stack config' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-stack-'));
    try {
      for (const app of ['shop', 'notes']) {
        writeFileSync(join(dir, 'litestream.yml'), 'dbs: []\n');
        for (const f of ['stack.yml', 'stack.release.yml']) {
          const src = join(golden, `${app}.${f}`);
          if (!existsSync(src)) continue;
          writeFileSync(join(dir, f), readFileSync(src));
          execFileSync('docker', ['stack', 'config', '-c', join(dir, f)], { env: { PATH: process.env.PATH, HOME: process.env.HOME, BERTH_SECRETS_VERSION: 'test' }, stdio: ['ignore', 'pipe', 'pipe'] });
          const bare = spawnSync('docker', ['stack', 'config', '-c', join(dir, f)], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, encoding: 'utf8' });
          assert.notEqual(bare.status, 0, 'without a secrets version the file says what is missing');
          assert.match(bare.stderr, /BERTH_SECRETS_VERSION/);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a deploy step\'s stack (stack-merge.ts)', () => {
  const v1 = renderClusterApp(project, shop, { release: 'v1', secretsVersion: 'aaaaaaaaaaaa', releaseId: 'v1-x' }).files.find((f) => f.path === 'stack.yml')!.content;
  const v2 = renderClusterApp(project, { ...shop, config: { ...shop.config, env: { RAILS_ENV: 'staging' } } }, { release: 'v2', secretsVersion: 'bbbbbbbbbbbb', releaseId: 'v2-y' }).files.find((f) => f.path === 'stack.yml')!.content;

  test('the live colour and, before the switch, the workers are copied from the live release, byte for byte in their spec', () => {
    const m = parse(mergeStack({ release: v2, live: v1, colour: 'green', replicas: 3, liveWorkers: true, what: 'test' }));
    const live = parse(v1);
    const blue = m.services['web-blue']!;
    assert.deepEqual({ ...blue, secrets: undefined }, { ...live.services['web-blue'], secrets: undefined });
    assert.deepEqual(blue.secrets, [{ source: 'berth-shop-PGPASSWORD-aaaaaaaaaaaa', target: 'PGPASSWORD' }, { source: 'berth-shop-SECRET_KEY_BASE-aaaaaaaaaaaa', target: 'SECRET_KEY_BASE' }], 'the live colour keeps its own Swarm secrets');
    assert.deepEqual(m.secrets['berth-shop-SECRET_KEY_BASE-aaaaaaaaaaaa'], { external: true, name: 'berth-shop-SECRET_KEY_BASE-aaaaaaaaaaaa' });
    assert.equal(m.secrets.SECRET_KEY_BASE!.name, 'berth-shop-SECRET_KEY_BASE-bbbbbbbbbbbb');
    assert.equal(m.services['web-green']!.environment.RAILS_ENV, 'staging');
    assert.equal(m.services['worker-jobs']!.environment.RAILS_ENV, 'production', 'workers stay on the live release until the switch');
    const after = parse(mergeStack({ release: v2, live: v1, colour: 'green', replicas: 3, liveWorkers: false, what: 'test' }));
    assert.equal(after.services['worker-jobs']!.environment.RAILS_ENV, 'staging');
    assert.deepEqual(after.services['web-blue'], blue);
  });

  test('the rolled-out colour gets the step\'s replicas; on a first deploy the other colour has none', () => {
    const prep = mergeStack({ release: v1, colour: 'blue', replicas: 0, liveWorkers: true, what: 'test' });
    assert.equal(stackReplicas(prep, 'web-blue'), 0);
    assert.equal(stackReplicas(prep, 'web-green'), 0);
    assert.equal(stackReplicas(prep, 'worker-jobs'), 0);
    const start = mergeStack({ release: v1, colour: 'blue', replicas: 3, liveWorkers: false, what: 'test' });
    assert.equal(stackReplicas(start, 'web-blue'), 3);
    assert.equal(stackReplicas(start, 'web-green'), 0);
  });

  test('a first deploy holds the replicator until the workers step; a running one is never held', () => {
    const n1 = renderClusterApp(project, sqlite, { release: 'v1', releaseId: 'v1-x' }).files.find((f) => f.path === 'stack.yml')!.content;
    const n2 = renderClusterApp(project, sqlite, { release: 'v2', releaseId: 'v2-y' }).files.find((f) => f.path === 'stack.yml')!.content;
    assert.equal(stackReplicas(mergeStack({ release: n1, colour: 'blue', replicas: 0, liveWorkers: true, what: 'test', holdReplicator: true }), 'litestream'), 0);
    assert.equal(stackReplicas(mergeStack({ release: n1, colour: 'blue', replicas: 1, liveWorkers: true, what: 'test' }), 'litestream'), 1, 'it starts with the colour');
    assert.equal(stackReplicas(mergeStack({ release: n2, live: n1, colour: 'green', replicas: 0, liveWorkers: true, what: 'test', holdReplicator: true }), 'litestream'), 1, 'the live release runs one: it keeps running');
  });
});

describe('routes and the edge on a cluster', () => {
  test('every router of the app points at the colour\'s swarm service, through the retry middleware', () => {
    const r = YAML.parse(renderClusterRouting(shop, 'green')) as { http: { routers: Record<string, { service: string; middlewares?: string[] }>; middlewares: Record<string, unknown>; services?: unknown } };
    for (const router of Object.values(r.http.routers)) {
      assert.equal(router.service, 'shop-green@swarm');
      assert.equal(router.middlewares!.at(-1), 'shop-retry');
    }
    assert.deepEqual(r.http.middlewares['shop-retry'], { retry: { attempts: 4, initialInterval: '50ms' } });
    assert.equal(r.http.services, undefined, 'no file-provider service: the swarm provider defines it');
    assert.notEqual(renderClusterRouting(shop, 'blue'), renderClusterRouting(shop, 'green'));
  });

  test('the managers\' edge reads the swarm read-only and joins the cluster network', () => {
    const e = renderClusterEdge(project);
    const compose = YAML.parse(e.files.find((f) => f.path === 'compose.yml')!.content) as { services: Record<string, any>; networks: Record<string, unknown> };
    assert.ok(compose.services.traefik.networks.includes('berth-cluster'));
    assert.deepEqual(compose.networks['berth-cluster'], { external: true });
    const env = compose.services['socket-proxy'].environment;
    assert.equal(env.SERVICES, '1');
    assert.equal(env.TASKS, '1');
    assert.equal(env.NODES, '1');
    assert.equal(env.POST, '0', 'still read-only');
    const stat = YAML.parse(e.files.find((f) => f.path === 'traefik.yml')!.content) as { providers: { swarm: Record<string, unknown> } };
    assert.equal(stat.providers.swarm.network, 'berth-cluster');
    assert.equal(stat.providers.swarm.exposedByDefault, false);
    assert.match(renderClusterTransport(), /dialTimeout: 1s/);
  });
});

test("on a cluster a colour's health-check start period covers the deploy's health timeout (Swarm kills a task whose check fails)", async () => {
  const { clusterHealthcheck } = await import('../../src/plan/render-stack.ts');
  const hc = { test: ['CMD', 'curl', '-f', 'http://localhost/up'], interval: '1s', timeout: '2s', retries: 5, start_period: '3s' };
  assert.deepEqual(clusterHealthcheck(hc, 90), { ...hc, start_period: '90s' });
  assert.equal(clusterHealthcheck({ ...hc, start_period: '2m' }, 90)!.start_period, '2m', 'a longer one is kept');
  assert.equal(clusterHealthcheck({ ...hc, start_period: '1m30s' }, 120)!.start_period, '1m30s', 'a composite duration is kept as written');
  assert.equal(clusterHealthcheck(undefined, 90), undefined);
});
