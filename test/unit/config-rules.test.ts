import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envReferences, selectHosts } from '../../src/config/rules.ts';
import { parsePortBinding } from '../../src/plan/placement.ts';
import { edgeData, hostsData, linesOf, rawProject, valid } from '../fixtures/config/project.ts';

const web = (over: Record<string, unknown> = {}) => ({ image: 'ghcr.io/acme/app', hosts: ['h1'], ...over });

describe('cross-file rules', () => {
  it('a domain claimed by two apps', () => {
    assert.deepEqual(linesOf(rawProject({ a: web({ domains: ['shop.example.com'] }), b: web({ domains: ['blog.example.com', 'shop.example.com'] }) })), [
      'apps/b/app.yml: domains[1]: expected a domain no other app claims, got "shop.example.com"; "shop.example.com" is already routed to a (apps/a/app.yml: domains[0]); to share the domain, give one of them a path_prefix',
    ]);
  });

  it("a domain's www. alias claimed by another app", () => {
    assert.deepEqual(
      linesOf(rawProject({ a: web({ domains: ['example.com'], www: 'redirect-to-apex' }), b: web({ domains: ['www.example.com'] }) })),
      ['apps/b/app.yml: domains[0]: expected a domain no other app claims, got "www.example.com"; "www.example.com" is already routed to a (apps/a/app.yml: domains[0]); to share the domain, give one of them a path_prefix'],
    );
    // www: none claims only the apex.
    valid(rawProject({ a: web({ domains: ['example.com'] }), b: web({ domains: ['www.example.com'] }) }));
  });

  it("an accessory named like a service Berth runs itself (a colour, the release command's, the replicator, a worker, a backup loop)", () => {
    const acc = { image: 'redis:7' };
    const pg = { image: 'postgres:16', volumes: { pg: '/var/lib/postgresql/data' }, backup: { schedule: '03:00' } };
    const lines = linesOf(rawProject({ a: web({ accessories: { release: acc, 'web-green': acc, litestream: acc, 'worker-mail': acc, db: pg, 'db-backup': acc, cache: acc } }) }));
    const says = (name: string, is: string) => `apps/a/app.yml: accessories.${name}: expected an accessory name Berth does not give a service of its own ("${name}" is ${is}), got "${name}"; rename the accessory`;
    assert.deepEqual(lines, [
      says('release', "the release command's service"), says('web-green', 'the green web colour'), says('litestream', 'the Litestream replicator'),
      says('worker-mail', "a worker's service"), says('db-backup', "accessory db's backup loop"),
    ]);
  });

  it('an app host not in hosts.json', () => {
    assert.deepEqual(linesOf(rawProject({ a: web({ hosts: ['h3'] }) })), [
      'apps/a/app.yml: hosts[0]: expected a host from hosts.json (db, h1, h2), got "h3"; did you mean "h1"?',
    ]);
  });

  it('an app with neither hosts nor roles', () => {
    assert.deepEqual(linesOf(rawProject({ a: { image: 'ghcr.io/acme/app' } })), [
      'apps/a/app.yml: hosts: expected hosts (from hosts.json: db, h1, h2) or roles selecting at least one host, got nothing; add e.g. hosts: [db]',
    ]);
  });

  it('a role no host has', () => {
    assert.deepEqual(linesOf(rawProject({ a: { image: 'ghcr.io/acme/app', roles: ['wbe'] } })), [
      'apps/a/app.yml: roles[0]: expected a role some host in hosts.json has (db, web), got "wbe"; did you mean "web"?',
    ]);
    const p = valid(rawProject({ a: { image: 'ghcr.io/acme/app', roles: ['web'], hosts: ['db'] } }));
    assert.deepEqual(selectHosts(p.apps[0]!, p.hosts), ['db', 'h1', 'h2']);
  });

  it('state on several hosts: a volume or a stateful accessory would be one copy per host', () => {
    const ls = {
      secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
      volumes: { storage: '/rails/storage', cache: '/rails/tmp/cache' },
      litestream: { databases: ['/rails/storage/production.sqlite3'], replica: { url: 's3://bucket/app' } },
    };
    assert.deepEqual(linesOf(rawProject({ a: { image: 'ghcr.io/acme/app', roles: ['web'], ...ls } })), [
      'apps/a/app.yml: volumes.storage: expected a volume on one host: volumes are local to a server, got "/rails/storage" on h1, h2, each host with its own copy of the Litestream-replicated databases (and all of them writing one replica); run the processes that use it on one host (the primary, e.g. hosts: ["h1"], or per-process hosts under web/workers) and keep the other hosts for stateless apps, or keep the data in a database accessory on one host that every host reaches (accessories.<name>.host; Berth sets <NAME>_HOST/<NAME>_PORT) instead of a volume',
      'apps/a/app.yml: volumes.cache: expected a volume on one host: volumes are local to a server, got "/rails/tmp/cache" on h1, h2, each host with its own copy; run the processes that use it on one host (the primary, e.g. hosts: ["h1"], or per-process hosts under web/workers) and keep the other hosts for stateless apps, or keep the data in a database accessory on one host that every host reaches (accessories.<name>.host; Berth sets <NAME>_HOST/<NAME>_PORT) instead of a volume; or, for a cache that may differ per host, list it in per_host_volumes',
    ]);
    // A per-host cache is fine; the database volume is not, even when listed.
    assert.equal(linesOf(rawProject({ a: { image: 'ghcr.io/acme/app', roles: ['web'], ...ls, per_host_volumes: ['cache', 'storage'] } })).length, 1);
    // One host (the primary): the same config is valid.
    valid(rawProject({ a: { image: 'ghcr.io/acme/app', hosts: ['h1'], ...ls } }));
    // A Postgres accessory with a volume on two hosts.
    assert.deepEqual(linesOf(rawProject({ a: { image: 'ghcr.io/acme/app', hosts: ['h1', 'h2'], accessories: { pg: { image: 'postgres:16', volumes: { pgdata: '/var/lib/postgresql/data' } } } } })), [
      'apps/a/app.yml: accessories.pg: expected a stateful accessory (volumes or backup) on one host, got "pg" would run on h1, h2, each with its own data; give it one host, e.g. host: "h1": the app\'s processes on the other hosts reach it at that host\'s private_ip (Berth sets PG_HOST/PG_PORT)',
    ]);
    assert.deepEqual(linesOf(rawProject({ a: web({ volumes: { cache: '/c' }, per_host_volumes: ['cahce'] }) })), [
      'apps/a/app.yml: per_host_volumes[0]: expected one of the app\'s volumes (cache), got "cahce"; did you mean "cache"?',
    ]);
  });

  it('a Litestream database outside every volume', () => {
    const ls = (dbs: string[]) => ({
      secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
      volumes: { storage: '/rails/storage' },
      litestream: { databases: dbs, replica: { url: 's3://bucket/app' } },
    });
    assert.deepEqual(linesOf(rawProject({ a: web(ls(['/rails/storage/production.sqlite3', '/rails/db/cache.sqlite3'])) })), [
      'apps/a/app.yml: litestream.databases[1]: expected a path under a declared volume (/rails/storage), got "/rails/db/cache.sqlite3"; declare a volume mounted at its directory, e.g. volumes: { data: /rails/db }',
    ]);
    // A prefix that is not a directory boundary does not count.
    assert.equal(linesOf(rawProject({ a: web(ls(['/rails/storage2/x.sqlite3'])) })).length, 1);
  });

  it('two apps publishing one host port on the same host', () => {
    const pg = (port: string) => ({ accessories: { postgres: { image: 'postgres:16', port } } });
    assert.deepEqual(linesOf(rawProject({ a: web(pg('127.0.0.1:5432:5432')), b: web({ hosts: ['h1', 'h2'], ...pg('127.0.0.1:5432:5432') }) })), [
      'apps/b/app.yml: accessories.postgres.port: expected a host port not already published on h1, got "127.0.0.1:5432:5432"; apps/a/app.yml: accessories.postgres.port publishes 127.0.0.1:5432 there; pick another host port',
    ]);
    // Different hosts, or different addresses, do not collide.
    valid(rawProject({ a: web(pg('127.0.0.1:5432:5432')), b: web({ hosts: ['h2'], ...pg('127.0.0.1:5432:5432') }) }));
    valid(rawProject({ a: web(pg('127.0.0.1:5432:5432')), b: web(pg('10.0.0.5:5432:5432')) }));
  });

  it('two accessories of one app publishing one port; 0.0.0.0 collides with every address', () => {
    const lines = linesOf(
      rawProject({
        a: web({ accessories: { pg: { image: 'postgres:16', port: '10.0.0.5:6000:5432' }, redis: { image: 'redis:7', port: '0.0.0.0:6000:6379' } } }),
      }),
    );
    assert.ok(lines.includes('apps/a/app.yml: accessories.redis.port: expected a host port not already published on h1, got "0.0.0.0:6000:6379"; apps/a/app.yml: accessories.pg.port publishes 10.0.0.5:6000 there; pick another host port'));
  });

  it("an accessory port colliding with Traefik's entrypoints", () => {
    const lines = linesOf(rawProject({ a: web({ accessories: { proxy: { image: 'nginx:1', port: '127.0.0.1:443:443' } } }) }));
    assert.deepEqual(lines, [
      `apps/a/app.yml: accessories.proxy.port: expected a host port not already published on h1, got "127.0.0.1:443:443"; Traefik's https entrypoint (shared/edge.yml: entrypoints.https) publishes 0.0.0.0:443 there; pick another host port`,
    ]);
  });

  it('an accessory port without an address (or 0.0.0.0) is public and bypasses UFW', () => {
    assert.deepEqual(linesOf(rawProject({ a: web({ accessories: { postgres: { image: 'postgres:16', port: '5432:5432' } } }) })), [
      'apps/a/app.yml: accessories.postgres.port: expected a port bound to one address such as "127.0.0.1:5432:5432", got "5432:5432"; bind to 127.0.0.1: (or to one specific address when it must be reachable): Docker-published ports bypass UFW',
    ]);
    assert.equal(linesOf(rawProject({ a: web({ accessories: { postgres: { image: 'postgres:16', port: '0.0.0.0:5432:5432' } } }) })).length, 1);
  });

  it('a secret used but not declared', () => {
    const lines = linesOf(
      rawProject({
        a: web({
          registry: { server: 'ghcr.io', username: 'acme', password_secret: 'GHCR_TOKEN' },
          tls: { mode: 'origin-certificate', cert_file: 'origin.pem', key_secret: 'ORIGIN_KEY' },
          env: { DATABASE_URL: 'postgres://app:${PG_PASSWORD}@postgres/app', LITERAL: '$${NOT_A_SECRET}', PLAIN: 'x' },
          secrets: ['PG_PASSWORD_'],
          accessories: { postgres: { image: 'postgres:16', secrets: ['POSTGRES_PASSWORD'] } },
        }),
      }),
    );
    assert.deepEqual(lines, [
      'apps/a/app.yml: registry.password_secret: expected a declared secret (PG_PASSWORD_), got "GHCR_TOKEN"; add GHCR_TOKEN to secrets (or to secret_commands)',
      'apps/a/app.yml: tls.key_secret: expected a declared secret (PG_PASSWORD_), got "ORIGIN_KEY"; add ORIGIN_KEY to secrets (or to secret_commands)',
      'apps/a/app.yml: env.DATABASE_URL: expected a declared secret (PG_PASSWORD_), got "PG_PASSWORD"; did you mean "PG_PASSWORD_"?',
      'apps/a/app.yml: accessories.postgres.secrets[0]: expected a declared secret (PG_PASSWORD_), got "POSTGRES_PASSWORD"; add POSTGRES_PASSWORD to secrets (or to secret_commands)',
    ]);
  });

  it('a secret declared through secret_commands counts; Litestream keys must be declared', () => {
    const ls = { volumes: { d: '/d' }, litestream: { databases: ['/d/x.sqlite3'], replica: { url: 's3://b/p' } } };
    const lines = linesOf(rawProject({ a: web({ ...ls, secret_commands: { LITESTREAM_ACCESS_KEY_ID: 'pass show b2/id' } }) }));
    assert.deepEqual(lines, [
      'apps/a/app.yml: litestream.replica.secret_access_key_secret: expected a declared secret (LITESTREAM_ACCESS_KEY_ID), got "LITESTREAM_SECRET_ACCESS_KEY"; add LITESTREAM_SECRET_ACCESS_KEY to secrets (or to secret_commands)',
    ]);
  });

  it('a tls.resolver not defined in shared/edge.yml', () => {
    assert.deepEqual(linesOf(rawProject({ a: web({ tls: { mode: 'acme', resolver: 'cloudflar' } }) })), [
      'apps/a/app.yml: tls.resolver: expected a resolver from shared/edge.yml acme.resolvers (cloudflare, letsencrypt), got "cloudflar"; did you mean "cloudflare"?',
    ]);
  });

  it('ca: custom without ca_server', () => {
    const edge = edgeData();
    assert.deepEqual(linesOf(rawProject({ a: web() }, { edge: { file: 'shared/edge.yml', data: { ...edge, acme: { ...edge.acme, ca: 'custom' } } } })), [
      'shared/edge.yml: acme.ca_server: expected an ACME directory URL (required when acme.ca is "custom"), got nothing; e.g. ca_server: https://ca.example.test:14000/dir',
    ]);
  });

  it('accessory backup on a non-postgres image', () => {
    assert.deepEqual(linesOf(rawProject({ a: web({ accessories: { cache: { image: 'redis:7', backup: { keep: 3 } } } }) })), [
      'apps/a/app.yml: accessories.cache.backup: expected backup only on a postgres accessory (it runs pg_dump), got image "redis:7"; remove backup, or use a postgres image',
    ]);
    for (const image of ['postgres:16', 'docker.io/library/postgres:16-alpine', 'postgis/postgis:16-3.4', 'pgvector/pgvector:pg16']) {
      valid(rawProject({ a: web({ accessories: { db: { image, backup: {} } } }) }));
    }
  });

  it('build on: local without a registry', () => {
    assert.deepEqual(linesOf(rawProject({ a: web({ build: {} }) })), [
      'apps/a/app.yml: registry: expected a registry to push the locally built image to (build.on is "local"), got nothing; add registry: { server, username, password_secret }, registry: none to ship the image over SSH, or build.on: host to build on the server',
    ]);
    valid(rawProject({ a: web({ build: { on: 'host' } }) }));
    valid(rawProject({ a: web({ image: 'localhost:5000/app', build: {} }) }));
    valid(rawProject({ a: web({ image: '127.0.0.1:5000/app', build: {} }) }));
  });

  it('registry: none ships what Berth builds here (build.on: local), nothing else', () => {
    valid(rawProject({ a: web({ image: 'acme/app', build: {}, registry: 'none' }) }));
    valid(rawProject({ a: web({ image: 'acme/app', build: { on: 'local' }, registry: 'none' }) }));
    assert.deepEqual(linesOf(rawProject({ a: web({ image: 'acme/app', build: { on: 'host' }, registry: 'none' }) })), [
      'apps/a/app.yml: build.on: expected build.on: local with registry: none (the image built here is shipped to each host over SSH), got "host"; set build.on: local, or drop registry: none (build.on: host needs no registry)',
    ]);
    assert.deepEqual(linesOf(rawProject({ a: web({ image: 'acme/app', registry: 'none' }) })), [
      'apps/a/app.yml: build: expected build.on: local with registry: none (the image built here is shipped to each host over SSH), got nothing; add build: { context: ., on: local }, or name a registry to pull the image from',
    ]);
    // Any other word is neither "none" nor a registry mapping; a mapping's own mistakes are reported at their keys.
    assert.deepEqual(linesOf(rawProject({ a: web({ build: {}, registry: 'nope' }) })), ['apps/a/app.yml: registry: expected "none" or a mapping, got "nope"']);
    assert.deepEqual(linesOf(rawProject({ a: web({ registry: { server: 'ghcr.io', usernme: 'a', password_secret: 'T' }, secrets: ['T'] }) })), [
      'apps/a/app.yml: registry.usernme: expected a known key, got unknown key "usernme"; did you mean "username"?',
    ]);
  });

  it('rules still run over the valid apps when another app is broken', () => {
    const lines = linesOf(rawProject({ a: web({ domains: ['x.example.com'] }), b: web({ domains: ['x.example.com'] }), c: { image: 42 } }));
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^apps\/b\/app\.yml: domains\[0\]/);
    assert.match(lines[1]!, /^apps\/c\/app\.yml: image: expected a string, got 42/);
  });
});

describe('Litestream replicas', () => {
  const ls = (url: string, dbs: string[]) =>
    web({ secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'], volumes: { d: '/d' }, litestream: { databases: dbs, replica: { url } } });

  it('an app folder copied with only the domain changed gets its own replica paths', () => {
    valid(rawProject({ shop: { ...ls('s3://bucket/apps', ['/d/app.db']), domains: ['shop.example.com'] }, shop_staging: { ...ls('s3://bucket/apps', ['/d/app.db']), domains: ['staging.shop.example.com'] } }));
  });

  it('two databases with one file name in different folders get their own replica paths', () => {
    valid(rawProject({ a: ls('s3://bucket/p', ['/d/one/app.db', '/d/two/app.db']) }));
  });

  it('a database listed twice, or a replica path another app also reaches, is refused', () => {
    assert.deepEqual(linesOf(rawProject({ a: ls('s3://bucket/p', ['/d/app.db', '/d/app.db']) })), [
      'apps/a/app.yml: litestream.databases[1]: expected a replica no other database writes to, got "/d/app.db" → s3://bucket/p/a/d/app.db; apps/a/app.yml: litestream.databases (a) replicates there too; give one of them another database path or litestream.replica.url',
    ]);
    // b's prefix reaches into a's namespace: p/b/x + a/d/app.db = p/b/x/a/d/app.db = b's own /x/a/d/app.db.
    const lines = linesOf(rawProject({ a: ls('s3://bucket/p/b/x', ['/d/app.db']), b: { ...ls('s3://bucket/p', ['/x/a/d/app.db']), volumes: { x: '/x' } } }));
    assert.deepEqual(lines, [
      'apps/b/app.yml: litestream.databases[0]: expected a replica no other database writes to, got "/x/a/d/app.db" → s3://bucket/p/b/x/a/d/app.db; apps/a/app.yml: litestream.databases (a) replicates there too; give one of them another database path or litestream.replica.url',
    ]);
  });
});

describe('ports', () => {
  const withEdge = (entrypoints: object, apps: Record<string, unknown> = {}) =>
    rawProject(apps, { edge: { file: 'shared/edge.yml', data: { ...edgeData(), entrypoints } } });

  it("an entrypoint on Traefik's API port (127.0.0.1:8080) is refused, naming the key and the fix", () => {
    assert.deepEqual(linesOf(withEdge({ http: 8080, https: 8443 })), [
      "shared/edge.yml: entrypoints.http: expected a host port no other listener of the edge uses, got 8080; Traefik's API (127.0.0.1:8080, fixed) already listens on 127.0.0.1:8080; pick another port (e.g. 8000)",
    ]);
    valid(withEdge({ http: 8000, https: 8443 }));
  });

  it('the two entrypoints on one port', () => {
    assert.match(linesOf(withEdge({ http: 8443, https: 8443 })).join('\n'), /shared\/edge\.yml: entrypoints\.https: expected a host port no other listener of the edge uses, got 8443; Traefik's http entrypoint/);
  });

  it("an entrypoint on a host's SSH port", () => {
    const hosts = { hosts: { h1: { ssh: 'root@203.0.113.10:2222' } } };
    const lines = linesOf(rawProject({}, { hostsFile: { file: 'hosts.json', data: hosts }, edge: { file: 'shared/edge.yml', data: { ...edgeData(), entrypoints: { http: 2222, https: 443 } } } }));
    assert.deepEqual(lines, ["shared/edge.yml: entrypoints.http: expected a port other than h1's SSH port, got 2222; hosts.json: hosts.h1.ssh connects to port 2222; pick another entrypoint port"]);
  });

  it("an accessory publishing Traefik's API port or an entrypoint", () => {
    const pg = (port: string) => web({ accessories: { postgres: { image: 'postgres:16', port } } });
    assert.deepEqual(linesOf(rawProject({ a: pg('127.0.0.1:8080:5432') })), [
      `apps/a/app.yml: accessories.postgres.port: expected a host port not already published on h1, got "127.0.0.1:8080:5432"; Traefik's API (127.0.0.1:8080, fixed) publishes 127.0.0.1:8080 there; pick another host port`,
    ]);
    assert.match(linesOf(rawProject({ a: pg('127.0.0.1:443:5432') })).join('\n'), /https entrypoint \(shared\/edge\.yml: entrypoints\.https\)/);
    valid(rawProject({ a: pg('127.0.0.1:8081:5432') }));
  });

  it('port ranges: SSH port, accessory host and container ports, binding address', () => {
    const hosts = hostsData();
    (hosts.hosts.h1 as { ssh: string }).ssh = 'root@203.0.113.10:70000';
    assert.deepEqual(linesOf(rawProject({}, { hostsFile: { file: 'hosts.json', data: hosts } })), [
      'hosts.json: hosts.h1.ssh: expected an SSH port from 1 to 65535, got "root@203.0.113.10:70000"',
    ]);
    const pg = (port: string) => web({ accessories: { postgres: { image: 'postgres:16', port } } });
    for (const [port, why] of [
      ['127.0.0.1:99999:5432', '99999 is out of range'],
      ['127.0.0.1:5432:0', '0 is out of range'],
      ['127.0.0.1:5432:65536', '65536 is out of range'],
      ['127.0.0.300:5432:5432', '127.0.0.300 is not'],
    ] as const) {
      assert.deepEqual(linesOf(rawProject({ a: pg(port) })), [
        `apps/a/app.yml: accessories.postgres.port: expected a port binding "127.0.0.1:5432:5432" with ${why.includes('not') ? `an IPv4 address whose parts are 0–255 (${why})` : `ports from 1 to 65535 (${why})`}, got "${port}"`,
      ]);
    }
    assert.match(linesOf(rawProject({ a: web({ port: 0 }) })).join('\n'), /apps\/a\/app\.yml: port: expected a number >= 1, got 0/);
    assert.match(linesOf(withEdge({ http: 70000, https: 443 })).join('\n'), /shared\/edge\.yml: entrypoints\.http: expected a number <= 65535, got 70000/);
  });
});

describe('rule helpers', () => {
  it('parsePortBinding', () => {
    assert.deepEqual(parsePortBinding('127.0.0.1:5432:5433'), { ip: '127.0.0.1', hostPort: 5432, containerPort: 5433 });
    assert.deepEqual(parsePortBinding('8080:80'), { ip: '0.0.0.0', hostPort: 8080, containerPort: 80 });
  });
  it('envReferences', () => {
    assert.deepEqual(envReferences('a ${X} b ${Y_2} $${Z} $$$${V} $$${W}'), ['X', 'Y_2', 'W']);
    assert.deepEqual(envReferences(3), []);
  });
});

describe('services of one app (issue 24)', () => {
  it('a secret interpolated into an accessory env is refused with file, key and fix', () => {
    const lines = linesOf(rawProject({
      a: web({ secrets: ['PW'], accessories: { db: { image: 'postgres:16', secrets: ['PW'], env: { POSTGRES_USER: 'u', DATABASE_URL: 'postgres://u:${PW}@db/x' } } } }),
    }));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /^apps\/a\/app\.yml: accessories\.db\.env\.DATABASE_URL: expected a value without \$\{…\}: an accessory gets secrets as files only, since its env shows in docker inspect, got "postgres:\/\/u:\$\{PW\}@db\/x"; list PW under accessories\.db\.secrets .*PW_FILE points at it/);
    // An escaped $${PW} is a literal, not a secret: allowed. The app's own env may interpolate.
    valid(rawProject({ a: web({ secrets: ['PW'], env: { URL: 'postgres://u:${PW}@db' }, accessories: { db: { image: 'postgres:16', secrets: ['PW'], env: { X: 'a$${PW}' } } } }) }));
  });

  it('two services naming one volume are refused; distinct names are fine', () => {
    const shared = linesOf(rawProject({
      a: web({ volumes: { storage: '/rails/storage' }, accessories: { db: { image: 'postgres:16', volumes: { storage: '/var/lib/postgresql/data' } } } }),
    }));
    assert.deepEqual(shared, [
      'apps/a/app.yml: accessories.db.volumes.storage: expected a volume name no other service of the app mounts (one Docker volume per service), got "storage" at "/var/lib/postgresql/data", which volumes.storage (the app\'s web colours, workers and replicator) mounts too; rename it, e.g. db-storage: /var/lib/postgresql/data (two services writing one volume overwrite each other\'s files)',
    ]);
    const twoAcc = linesOf(rawProject({
      a: web({ accessories: { cache: { image: 'redis:7', volumes: { data: '/data' } }, db: { image: 'postgres:16', volumes: { data: '/var/lib/postgresql/data' } } } }),
    }));
    assert.deepEqual(twoAcc, [
      'apps/a/app.yml: accessories.db.volumes.data: expected a volume name no other service of the app mounts (one Docker volume per service), got "data" at "/var/lib/postgresql/data", which accessories.cache.volumes.data mounts too; rename it, e.g. db-data: /var/lib/postgresql/data (two services writing one volume overwrite each other\'s files)',
    ]);
    valid(rawProject({ a: web({ volumes: { storage: '/rails/storage' }, accessories: { db: { image: 'postgres:16', volumes: { pgdata: '/var/lib/postgresql/data' } } } }) }));
  });
});
