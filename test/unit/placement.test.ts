// Placement across hosts (src/plan/placement.ts) and the rules that guard it: what runs where, where
// each accessory is reached from, what the firewall must open, and every refusal with file, key, fix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accessoryEndpoint,
  accessoryEnv,
  accessoryOpenings,
  describePlacement,
  placeApp,
  publishedBinding,
  sharedAccessories,
} from '../../src/plan/placement.ts';
import { linesOf, rawProject, valid } from '../fixtures/config/project.ts';
import { accessoryOpeningIssues } from '../../src/config/rules.ts';
import { formatIssue } from '../../src/errors.ts';
import { loadProject } from '../../src/config/load.ts';
import { renderApp } from '../../src/plan/render-app.ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawProject } from '../../src/config/validate.ts';

/** h4, h5 (web), h6 (db), each with a private_ip; plus a host outside the app. */
const topoHosts = () => ({
  hosts: {
    h4: { ssh: 'root@203.0.113.14', roles: ['web'], private_ip: '10.0.0.14' },
    h5: { ssh: 'root@203.0.113.15', roles: ['web', 'jobs'], private_ip: '10.0.0.15' },
    h6: { ssh: 'root@203.0.113.16', roles: ['db'], private_ip: '10.0.0.16' },
    other: { ssh: 'root@203.0.113.17', roles: [], private_ip: '10.0.0.17' },
  },
});

const topoApp = (over: Record<string, unknown> = {}) => ({
  image: 'ghcr.io/acme/app',
  roles: ['web'],
  domains: ['topo.example.com'],
  workers: { jobs: { command: 'bin/jobs', roles: ['jobs'] } },
  secrets: ['POSTGRES_PASSWORD'],
  accessories: {
    db: { image: 'postgres:16', host: 'h6', port: '5432:5432', volumes: { pgdata: '/var/lib/postgresql/data' }, secrets: ['POSTGRES_PASSWORD'], backup: { schedule: 'daily' } },
  },
  ...over,
});

const project = (apps: Record<string, unknown>, hosts: unknown = topoHosts()): RawProject => rawProject(apps, { hostsFile: { file: 'hosts.json', data: hosts } });

describe('placement', () => {
  it('web on h4 + h5, a worker on h5, PostgreSQL on h6: each host runs its part', () => {
    const p = valid(project({ topo: topoApp() }));
    const app = p.apps[0]!;
    const pl = placeApp(app, p.hosts);
    assert.deepEqual(pl.hosts, ['h4', 'h5', 'h6']);
    assert.deepEqual(pl.web, ['h4', 'h5']);
    assert.deepEqual(pl.workers, { jobs: ['h5'] });
    assert.deepEqual(pl.accessories, { db: ['h6'] });
    assert.deepEqual(pl.imageHosts, ['h4', 'h5']);
    assert.equal(pl.uniform, false);
    assert.deepEqual(describePlacement(pl), ['h4: web', 'h5: web, worker jobs', 'h6: accessory db']);
    assert.deepEqual(pl.on.h6, { web: false, workers: [], accessories: ['db'], image: false });
    assert.deepEqual(sharedAccessories(pl), ['db']);
    // Reached at h6's private address and published port, from both web hosts; published on 10.0.0.16 only.
    assert.deepEqual(accessoryEndpoint(app, pl, p.hosts, 'db', 'h4'), { accessory: 'db', host: 'h6', local: false, address: '10.0.0.16', port: 5432 });
    assert.deepEqual(accessoryEnv(app, pl, p.hosts, 'h5'), { DB_HOST: '10.0.0.16', DB_PORT: '5432' });
    assert.equal(publishedBinding(app, pl, p.hosts, 'db', 'h6'), '10.0.0.16:5432:5432');
    // The firewall of h6 lets in h4 and h5 only; h4 opens nothing.
    assert.deepEqual(accessoryOpenings(p.apps, p.hosts, 'h6'), [{ app: 'topo', accessory: 'db', address: '10.0.0.16', port: 5432, sources: ['10.0.0.14', '10.0.0.15'] }]);
    assert.deepEqual(accessoryOpenings(p.apps, p.hosts, 'h4'), []);
  });

  it('every process on every host: uniform, accessories reached by name, no env, bindings as written', () => {
    const p = valid(project({ one: { image: 'ghcr.io/acme/app', hosts: ['h4'], workers: { jobs: { command: 'x' } }, accessories: { db: { image: 'postgres:16', port: '127.0.0.1:5432:5432', volumes: { d: '/d' } } } } }));
    const app = p.apps[0]!;
    const pl = placeApp(app, p.hosts);
    assert.equal(pl.uniform, true);
    assert.deepEqual(accessoryEnv(app, pl, p.hosts, 'h4'), {});
    assert.deepEqual(accessoryEndpoint(app, pl, p.hosts, 'db', 'h4'), { accessory: 'db', host: 'h4', local: true, address: 'db', port: 5432 });
    assert.equal(publishedBinding(app, pl, p.hosts, 'db', 'h4'), '127.0.0.1:5432:5432');
    assert.deepEqual(accessoryOpenings(p.apps, p.hosts, 'h4'), []);
  });

  it('an accessory beside some processes: local ones use its name, the others its host', () => {
    const p = valid(project({ a: topoApp({ accessories: { redis: { image: 'redis:7', hosts: ['h4'], port: '6379:6379' } } }) }));
    const app = p.apps[0]!;
    const pl = placeApp(app, p.hosts);
    assert.deepEqual(accessoryEnv(app, pl, p.hosts, 'h4'), { REDIS_HOST: 'redis', REDIS_PORT: '6379' });
    assert.deepEqual(accessoryEnv(app, pl, p.hosts, 'h5'), { REDIS_HOST: '10.0.0.14', REDIS_PORT: '6379' });
    // Only h5 comes from another host.
    assert.deepEqual(accessoryOpenings(p.apps, p.hosts, 'h4').map((o) => o.sources), [['10.0.0.15']]);
  });

  it('web placed apart from the app hosts; a host running only a worker has no web', () => {
    const p = valid(project({ a: { image: 'ghcr.io/acme/app', hosts: ['h4', 'h5'], web: { hosts: ['h4'] }, workers: { jobs: { command: 'x', hosts: ['h5'] } } } }));
    const pl = placeApp(p.apps[0]!, p.hosts);
    assert.deepEqual(pl.web, ['h4']);
    assert.deepEqual(pl.on.h5, { web: false, workers: ['jobs'], accessories: [], image: true });
  });
});

describe('placement rules: file, key and fix', () => {
  it('a process or accessory on a host not in hosts.json, or a role no host has', () => {
    assert.deepEqual(
      linesOf(project({ a: topoApp({ web: { hosts: ['h44'] }, workers: { jobs: { command: 'x', roles: ['jbos'] } }, accessories: { db: { image: 'postgres:16', host: 'h7', port: '5432:5432' } } }) })),
      [
        'apps/a/app.yml: web.hosts[0]: expected a host from hosts.json (h4, h5, h6, other), got "h44"; did you mean "h4"?',
        'apps/a/app.yml: workers.jobs.roles[0]: expected a role some host in hosts.json has (db, jobs, web), got "jbos"; did you mean "jobs"?',
        'apps/a/app.yml: accessories.db.host: expected a host from hosts.json (h4, h5, h6, other), got "h7"; did you mean "h4"?',
      ],
    );
    assert.deepEqual(linesOf(project({ a: topoApp({ web: { hosts: [] } }) })), [
      'apps/a/app.yml: web: expected at least one host for the web colours (hosts or roles), got an empty list; name a host, e.g. hosts: ["h4"], or remove the key to use the app\'s hosts',
    ]);
  });

  it('a stateful accessory on two hosts', () => {
    assert.deepEqual(linesOf(project({ a: topoApp({ accessories: { db: { image: 'postgres:16', hosts: ['h5', 'h6'], port: '5432:5432', volumes: { pg: '/var/lib/postgresql/data' } } } }) })), [
      'apps/a/app.yml: accessories.db: expected a stateful accessory (volumes or backup) on one host, got "db" would run on h5, h6, each with its own data; give it one host, e.g. host: "h5": the app\'s processes on the other hosts reach it at that host\'s private_ip (Berth sets DB_HOST/DB_PORT)',
    ]);
  });

  it('a private port clash on one host (the published address is the private_ip)', () => {
    const other = { image: 'ghcr.io/acme/other', hosts: ['h6'], accessories: { pg: { image: 'postgres:16', port: '10.0.0.16:5432:5432' } } };
    assert.deepEqual(linesOf(project({ a: topoApp(), b: other })), [
      'apps/b/app.yml: accessories.pg.port: expected a host port not already published on h6, got "10.0.0.16:5432:5432"; apps/a/app.yml: accessories.db.port publishes 10.0.0.16:5432 there; pick another host port',
    ]);
    // 127.0.0.1:5432 beside 10.0.0.16:5432 is no clash.
    valid(project({ a: topoApp(), b: { ...other, accessories: { pg: { image: 'postgres:16', port: '127.0.0.1:5432:5432' } } } }));
  });

  it('a missing private_ip where another host must connect: the accessory host (plan); each host reaching it (setup --harden)', () => {
    const hosts = topoHosts();
    delete (hosts.hosts.h6 as { private_ip?: string }).private_ip;
    delete (hosts.hosts.h4 as { private_ip?: string }).private_ip;
    assert.deepEqual(linesOf(project({ a: topoApp() }, hosts)), [
      'hosts.json: hosts.h6.private_ip: expected the address of h6 on the private network between your servers: a\'s accessory db runs there and h4, h5 reach it, got nothing; add "private_ip": "10.0.0.x" (its vSwitch/VPC address) to h6',
    ]);
    // The firewall of h6 admits the app's hosts by their private_ip: hardening h6 asks for h4's.
    hosts.hosts.h6 = { ...hosts.hosts.h6, private_ip: '10.0.0.16' };
    const p = valid(project({ a: topoApp() }, hosts));
    assert.deepEqual(accessoryOpeningIssues(p, 'h6').map(formatIssue), [
      'hosts.json: hosts.h4.private_ip: expected the address of h4 on the private network: the firewall of h6 admits a\'s hosts to db by their private_ip, got nothing; add "private_ip" to h4 (its vSwitch/VPC address), then rerun setup -- h6 --harden',
    ]);
    assert.deepEqual(accessoryOpeningIssues(p, 'h5'), []);
  });

  it('a shared accessory: a port reachable from other hosts, and env that does not hard-wire where it is', () => {
    const acc = (over: Record<string, unknown>) => ({ db: { image: 'postgres:16', host: 'h6', ...over } });
    assert.deepEqual(linesOf(project({ a: topoApp({ accessories: acc({}) }) })), [
      'apps/a/app.yml: accessories.db.port: expected a published port: the app\'s processes on h4, h5 reach db on h6 over the private network, got nothing; e.g. port: "5432:5432" (Berth publishes it on h6\'s private_ip only)',
    ]);
    assert.deepEqual(linesOf(project({ a: topoApp({ accessories: acc({ port: '127.0.0.1:5432:5432' }) }) })), [
      'apps/a/app.yml: accessories.db.port: expected no address (Berth publishes it on the private_ip of h6) or that private_ip: h4, h5 reach it from other hosts, got "127.0.0.1:5432:5432"; write port: "5432:5432" (127.0.0.1 answers only on h6 itself)',
    ]);
    valid(project({ a: topoApp({ accessories: acc({ port: '10.0.0.16:5432:5432' }) }) }));
    assert.deepEqual(linesOf(project({ a: topoApp({ env: { DB_HOST: 'db', DATABASE_HOST: 'db' } }) })), [
      'apps/a/app.yml: env.DB_HOST: expected no DB_HOST: Berth sets it on every host to where db is reached from there, got "db"; remove env.DB_HOST; the app reads DB_HOST and DB_PORT',
      'apps/a/app.yml: env.DATABASE_HOST: expected an address h4, h5 can reach: "db" resolves only on h6, got "db"; read DB_HOST (and DB_PORT) in the app instead: Berth sets them to db\'s address from each host',
    ]);
    // Without a shared accessory, a port without an address is still refused (Docker-published ports bypass UFW).
    assert.equal(linesOf(project({ a: { image: 'ghcr.io/acme/app', hosts: ['h4'], accessories: { db: { image: 'postgres:16', port: '5432:5432' } } } })).length, 1);
  });

  it('app volumes follow the processes that mount them: web and workers on two hosts share none', () => {
    const lines = linesOf(project({ a: topoApp({ volumes: { storage: '/rails/storage' } }) }));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^apps\/a\/app\.yml: volumes\.storage: expected a volume on one host: volumes are local to a server, got "\/rails\/storage" on h4, h5, each host with its own copy/);
    // Web and the worker on one host (the database elsewhere): a volume there is fine.
    valid(project({ a: topoApp({ roles: undefined, hosts: ['h5'], workers: { jobs: { command: 'x' } }, volumes: { storage: '/rails/storage' } }) }));
  });
});

describe("zen_miner's growth path (apps/zen_miner/app.growth.yml)", () => {
  it('validates with the repository: web on web1 + web2, PostgreSQL on db1 reached at its private address, admitted from both', async () => {
    const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const p = await loadProject(repo, { env: {} });
    const app = p.apps.find((a) => a.name === 'zen_miner-growth')!;
    const pl = placeApp(app, p.hosts);
    assert.deepEqual(describePlacement(pl), ['db1: accessory db', 'web1: web', 'web2: web']);
    assert.deepEqual(accessoryEnv(app, pl, p.hosts, 'web2'), { DB_HOST: '10.0.0.23', DB_PORT: '5432' });
    assert.deepEqual(accessoryOpenings(p.apps, p.hosts, 'db1').map((o) => [o.port, o.sources]), [[5432, ['10.0.0.21', '10.0.0.22']]]);
    // The single-primary app.yml the seed recommends today is unchanged: SQLite volume, web1 only, one compose.yml.
    const today = p.apps.find((a) => a.name === 'zen_miner')!;
    assert.equal(placeApp(today, p.hosts).uniform, true);
    assert.deepEqual(renderApp(p, today, { release: 'r' }).files.map((f) => f.path), ['compose.yml', 'routing.blue.yml', 'routing.green.yml']);
  });
});

describe('commands act where each process lives', () => {
  it('logs --service: a worker, an accessory or its backup loop where they run; the web colours on the web hosts', async () => {
    const { serviceHosts } = await import('../../src/app/ops.ts');
    const p = valid(project({ a: topoApp() }));
    const app = p.apps[0]!;
    assert.deepEqual(serviceHosts(app, p), ['h4', 'h5']);
    assert.deepEqual(serviceHosts(app, p, 'web-green'), ['h4', 'h5']);
    assert.deepEqual(serviceHosts(app, p, 'worker-jobs'), ['h5']);
    assert.deepEqual(serviceHosts(app, p, 'db'), ['h6']);
    assert.deepEqual(serviceHosts(app, p, 'db-backup'), ['h6']);
  });

  it('backup:status asks each host only about what runs there', async () => {
    const { backupsOnHost } = await import('../../src/app/backup.ts');
    const p = valid(project({ a: topoApp() }));
    const app = p.apps[0]!;
    const pl = placeApp(app, p.hosts);
    assert.equal(backupsOnHost(app, pl, 'h4'), undefined, 'no pg_dump loop on a web host');
    assert.deepEqual(Object.keys(backupsOnHost(app, pl, 'h6')!.config.accessories), ['db']);
  });
});
