// Clusters in hosts.json and apps that opt in (src/config/cluster-rules.ts): every problem named
// with file, key and fix; nothing about per-host apps changes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { placementOf, stateHostsOf } from '../../src/config/cluster-rules.ts';
import { selectHosts } from '../../src/config/rules.ts';
import { edgeData, linesOf, rawApp, valid } from '../fixtures/config/project.ts';
import type { RawProject } from '../../src/config/validate.ts';

const hosts = (clusters: Record<string, unknown> = { main: { engine: 'swarm', hosts: ['n1', 'n2', 'n3'], managers: ['n1'] } }, over: Record<string, unknown> = {}) => ({
  hosts: {
    n1: { ssh: 'root@203.0.113.21', private_ip: '10.0.0.1', roles: ['web'] },
    n2: { ssh: 'root@203.0.113.22', private_ip: '10.0.0.2', roles: ['web'] },
    n3: { ssh: 'root@203.0.113.23', private_ip: '10.0.0.3', roles: ['db'] },
    solo: { ssh: 'root@203.0.113.30', roles: ['web'] },
    ...over,
  },
  clusters,
});

const project = (apps: Record<string, unknown>, h: unknown = hosts()): RawProject => ({
  root: '/p',
  hostsFile: { file: 'hosts.json', data: h },
  edge: { file: 'shared/edge.yml', data: edgeData() },
  apps: Object.entries(apps).map(([n, d]) => rawApp(n, d)),
});

const onCluster = (over: Record<string, unknown> = {}) => ({ image: 'ghcr.io/acme/app', cluster: 'main', ...over });

describe('clusters in hosts.json', () => {
  it('a valid cluster and a cluster app with replicas and no placement', () => {
    const p = valid(project({ a: onCluster({ replicas: 3, workers: { jobs: { command: 'bin/jobs', replicas: 2 } } }) }));
    assert.deepEqual(p.clusters?.main?.managers, ['n1']);
    assert.equal(p.apps[0]!.config.replicas, 3);
    assert.deepEqual(placementOf(p.apps[0]!), { kind: 'any' });
    // Its records live on the first manager; a per-host app's on its hosts.
    assert.deepEqual(stateHostsOf(p, p.apps[0]!, () => ['x']), ['n1']);
  });

  it('hosts and managers must exist, have a private address, and sit in one cluster', () => {
    const h = hosts({ main: { engine: 'swarm', hosts: ['n1', 'n2', 'nx', 'solo'], managers: ['n1', 'n3'] }, other: { engine: 'swarm', hosts: ['n2'], managers: ['n2'] } });
    assert.deepEqual(linesOf(project({}, h)), [
      'hosts.json: clusters.main.hosts[2]: expected a host from hosts (n1, n2, n3, solo), got "nx"; add nx under hosts, or name one of them',
      'hosts.json: hosts.solo.private_ip: expected the private address of solo: swarm nodes reach each other there (main lists it), got nothing; add "private_ip": "<its address on your private network>" to solo',
      'hosts.json: clusters.main.managers[1]: expected one of the cluster\'s hosts (n1, n2, nx, solo), got "n3"; add n3 to clusters.main.hosts, or name a manager from them',
      'hosts.json: clusters.main.managers: expected an odd number of managers (1, 3 or 5): Swarm keeps working while a majority of them is up, got 2 managers; use 1 or 3 managers (2 managers survive no loss, 1 survives none either but is simpler)',
      'hosts.json: clusters.other.hosts[0]: expected a host that is in one cluster only (a Docker engine joins one swarm), got "n2", already in cluster "main"; remove n2 from one of the two clusters',
    ]);
  });

  it('an unknown key or engine is refused by the schema', () => {
    const lines = linesOf(project({}, hosts({ main: { engine: 'kubernetes', hosts: ['n1'], managers: ['n1'], extra: 1 } })));
    assert.ok(lines.some((l) => l.startsWith('hosts.json: clusters.main.engine:')), lines.join('\n'));
    assert.ok(lines.some((l) => l.includes('clusters.main') && l.includes('extra')), lines.join('\n'));
  });
});

describe('apps on a cluster', () => {
  it('names a cluster that exists', () => {
    assert.deepEqual(linesOf(project({ a: onCluster({ cluster: 'mian' }) })), [
      'apps/a/app.yml: cluster: expected a cluster from hosts.json (main), got "mian"; add clusters: { mian: { engine: swarm, hosts: [...], managers: [...] } } to hosts.json, or name one of its clusters',
    ]);
  });

  it('replicas > 1 need a cluster (per-host apps run one task per host)', () => {
    assert.deepEqual(linesOf(project({ a: { image: 'ghcr.io/acme/app', hosts: ['solo'], replicas: 2 } })), [
      'apps/a/app.yml: replicas: expected one task per host (more than one needs a cluster: Docker Swarm spreads and reschedules them), got more than 1; add cluster: main (hosts.json clusters)',
    ]);
  });

  it('replicas > 1 with a database volume: refused with the reason and the fix', () => {
    const ls = { secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'], volumes: { storage: '/rails/storage' }, litestream: { databases: ['/rails/storage/p.sqlite3'], replica: { url: 's3://b/app' } } };
    const lines = linesOf(project({ a: onCluster({ hosts: ['n1'], replicas: 2, ...ls }) }));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /^apps\/a\/app\.yml: replicas: expected replicas: 1 for an app with a database volume/);
    assert.match(lines[0]!, /PostgreSQL accessory/);
    assert.match(lines[0]!, /per_host_volumes/);
    // A per-host cache volume is fine with replicas.
    valid(project({ a: onCluster({ replicas: 3, volumes: { cache: '/tmp/cache' }, per_host_volumes: ['cache'] }) }));
    // One replica pinned to one node: the SQLite + Litestream app as it should be.
    valid(project({ a: onCluster({ hosts: ['n2'], ...ls }) }));
  });

  it('state must be pinned to one node', () => {
    const lines = linesOf(project({ a: onCluster({ volumes: { data: '/data' } }) }));
    assert.deepEqual(lines, [
      'apps/a/app.yml: hosts: expected an app with data on a cluster pinned to one node (hosts: [<node>]): Swarm would otherwise start its task on another node, with an empty volume, got volume data and no placement; add hosts: ["n1"] (one of n1, n2, n3)',
    ]);
  });

  it('placement: one host or one role of the cluster', () => {
    assert.deepEqual(linesOf(project({ a: onCluster({ hosts: ['solo'] }) })), [
      'apps/a/app.yml: hosts[0]: expected a node of cluster main (n1, n2, n3), got "solo"; add solo to clusters.main.hosts, or pin the app to one of its nodes',
    ]);
    const two = linesOf(project({ a: onCluster({ hosts: ['n1', 'n2'] }) }));
    assert.equal(two.length, 1);
    assert.match(two[0]!, /at most one host or one role/);
    const p = valid(project({ a: onCluster({ roles: ['db'] }) }));
    assert.deepEqual(placementOf(p.apps[0]!), { kind: 'role', role: 'db' });
    assert.deepEqual(selectHosts(p.apps[0]!, p.hosts), ['n3']);
  });

  it('what a swarm cannot run is refused: build on a host, asset bridging, published accessory ports, interpolated accessory secrets', () => {
    const lines = linesOf(
      project({
        a: onCluster({
          hosts: ['n1'], build: { on: 'host' }, asset_path: '/app/public/assets', secrets: ['PW'],
          accessories: { db: { image: 'postgres:16', port: '127.0.0.1:5432:5432', env: { POSTGRES_PASSWORD: '${PW}' } } },
        }),
      }),
    );
    assert.deepEqual(lines.map((l) => l.split(': expected')[0]), ['apps/a/app.yml: build.on', 'apps/a/app.yml: asset_path', 'apps/a/app.yml: accessories.db.port', 'apps/a/app.yml: accessories.db.env.POSTGRES_PASSWORD']);
  });

  it('per-process placement (web/workers/accessories hosts) is refused on a cluster, naming the fix; registry: none with a local build is accepted', () => {
    const lines = linesOf(project({ a: onCluster({ web: { roles: ['web'] }, workers: { jobs: { command: 'x', roles: ['db'] } }, accessories: { cache: { image: 'redis:7', host: 'n3' } } }) }));
    const mine = lines.filter((l) => l.includes('no per-process hosts/roles on a cluster'));
    assert.deepEqual(mine.map((l) => l.split(': expected')[0]), ['apps/a/app.yml: web', 'apps/a/app.yml: workers.jobs', 'apps/a/app.yml: accessories.cache']);
    assert.match(mine[0]!, /place the app with hosts: \[<one node>\] or roles: \[<one role>\]/);
    // Every node gets the image over SSH (engine/swarm/deploy.ts), as per host.
    const none = valid(project({ a: onCluster({ build: { on: 'local' }, registry: 'none' }) }));
    assert.equal(none.apps[0]!.config.registry, 'none');
  });

  it('per-host apps are untouched by clusters', () => {
    const p = valid(project({ a: { image: 'ghcr.io/acme/app', hosts: ['solo'], volumes: { data: '/data' } } }));
    assert.equal(p.apps[0]!.config.cluster, undefined);
  });
});
