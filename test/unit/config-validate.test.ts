import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFound, formatPath } from '../../src/config/validate.ts';
import { closest } from '../../src/config/closest.ts';
import { ConfigError, formatError } from '../../src/errors.ts';
import { hostsData, linesOf, rawProject, valid } from '../fixtures/config/project.ts';

const base = { image: 'ghcr.io/acme/app', hosts: ['h1'], domains: ['app.example.com'] };
const app = (over: Record<string, unknown>) => ({ ...base, ...over });

describe('validateProject: schema errors name file, key path, expected and found', () => {
  const cases: { name: string; data: Record<string, unknown>; line: string }[] = [
    {
      name: 'unknown top-level key, with did-you-mean',
      data: { ...base, domain: ['x.example.com'] },
      line: 'apps/shop/app.yml: domain: expected a known key, got unknown key "domain"; did you mean "domains"?',
    },
    {
      name: 'unknown nested key, with did-you-mean',
      data: app({ healthcheck: { pth: '/up' } }),
      line: 'apps/shop/app.yml: healthcheck.pth: expected a known key, got unknown key "pth"; did you mean "path"?',
    },
    {
      name: 'unknown key inside a record entry',
      data: app({ accessories: { postgres: { image: 'postgres:16', volume: { pgdata: '/var/lib/postgresql/data' } } } }),
      line: 'apps/shop/app.yml: accessories.postgres.volume: expected a known key, got unknown key "volume"; did you mean "volumes"?',
    },
    {
      name: 'unknown key with nothing close lists the valid keys',
      data: app({ deploy: { zzzzzz: 1 } }),
      line: 'apps/shop/app.yml: deploy.zzzzzz: expected a known key, got unknown key "zzzzzz"; valid keys: retire_seconds, stop_timeout_seconds, health_timeout_seconds, keep_releases, batch_size',
    },
    {
      name: 'unknown key in a discriminated union lists only the chosen option',
      data: app({ tls: { mode: 'acme', zzzzzz: 'x' } }),
      line: 'apps/shop/app.yml: tls.zzzzzz: expected a known key, got unknown key "zzzzzz"; valid keys: mode, resolver',
    },
    {
      name: 'unknown key in a discriminated union, with did-you-mean',
      data: app({ tls: { mode: 'origin-certificate', cert_file: 'o.pem', key_secrets: 'K' } }),
      line: 'apps/shop/app.yml: tls.key_secrets: expected a known key, got unknown key "key_secrets"; did you mean "key_secret"?',
    },
    {
      name: 'wrong type',
      data: app({ port: '80' }),
      line: 'apps/shop/app.yml: port: expected a number, got "80"',
    },
    {
      name: 'wrong type: list expected',
      data: app({ domains: 'app.example.com' }),
      line: 'apps/shop/app.yml: domains: expected a list, got "app.example.com"',
    },
    {
      name: 'bad duration',
      data: app({ healthcheck: { interval: '5 sec' } }),
      line: 'apps/shop/app.yml: healthcheck.interval: expected a duration such as "500ms", "5s", "2m" or "1h", got "5 sec"',
    },
    {
      name: 'bad image',
      data: app({ image: 'GHCR.io/Acme/App' }),
      line: 'apps/shop/app.yml: image: expected an image reference such as "ghcr.io/acme/app" or "app:1.2", got "GHCR.io/Acme/App"',
    },
    {
      name: 'missing required key',
      data: { hosts: ['h1'] },
      line: 'apps/shop/app.yml: image: expected a string, got nothing',
    },
    {
      name: 'bad port binding',
      data: app({ accessories: { postgres: { image: 'postgres:16', port: '5432' } } }),
      line: 'apps/shop/app.yml: accessories.postgres.port: expected a port binding "127.0.0.1:5432:5432", got "5432"',
    },
    {
      name: 'enum',
      data: app({ www: 'yes' }),
      line: 'apps/shop/app.yml: www: expected one of "none", "alias", "redirect-to-apex", "redirect-to-www", got "yes"',
    },
    {
      name: 'discriminator',
      data: app({ tls: { mode: 'letsencrypt' } }),
      line: 'apps/shop/app.yml: tls.mode: expected one of "acme", "origin-certificate", "self-signed", "none", got "letsencrypt"',
    },
    {
      name: 'array element path',
      data: app({ domains: ['ok.example.com', 'Not A Domain'] }),
      line: 'apps/shop/app.yml: domains[1]: expected a lowercase DNS name such as "example.com", or a wildcard such as "*.example.com", got "Not A Domain"',
    },
    {
      name: 'record key',
      data: app({ env: { rails_env: 'production' } }),
      line: 'apps/shop/app.yml: env.rails_env: expected an environment variable name in UPPER_SNAKE_CASE, got key "rails_env"',
    },
    {
      name: 'union of scalar types',
      data: app({ env: { FOO: null } }),
      line: 'apps/shop/app.yml: env.FOO: expected a string or a number or true or false, got null',
    },
    {
      name: 'URL',
      data: app({
        volumes: { data: '/data' },
        secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
        litestream: { databases: ['/data/app.sqlite3'], replica: { url: 's3://b/p', endpoint: 'not a url' } },
      }),
      line: 'apps/shop/app.yml: litestream.replica.endpoint: expected a URL such as "https://example.com", got "not a url"',
    },
    {
      name: 'empty list',
      data: app({ volumes: { data: '/data' }, litestream: { databases: [], replica: { url: 's3://b/p' } } }),
      line: 'apps/shop/app.yml: litestream.databases: expected at least 1 item, got []',
    },
    {
      name: 'long values are shortened',
      data: app({ command: ['x'.repeat(100)] }),
      line: `apps/shop/app.yml: command: expected a string, got ["${'x'.repeat(55)}...`,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(linesOf(rawProject({ shop: c.data })), [c.line]);
    });
  }

  it('reports problems from every file at once, grouped by file', () => {
    const raw = rawProject(
      { alpha: { image: 'a', hosts: ['h1'], prot: 80 }, beta: { image: 'b', hosts: ['h1'], port: 'eighty' } },
      {
        hostsFile: { file: 'hosts.json', data: { hosts: { h1: { ssh: 'root@203.0.113.10', role: ['web'] } } } },
        edge: { file: 'shared/edge.yml', data: { acme: { email: 'not-an-email' } } },
      },
    );
    assert.deepEqual(linesOf(raw), [
      'apps/alpha/app.yml: prot: expected a known key, got unknown key "prot"; did you mean "port"?',
      'apps/beta/app.yml: port: expected a number, got "eighty"',
      'hosts.json: hosts.h1.role: expected a known key, got unknown key "role"; did you mean "roles"?',
      'shared/edge.yml: acme.email: expected an e-mail address for the ACME account, got "not-an-email"',
    ]);
  });

  it('rejects an app folder name that is not a valid name', () => {
    assert.deepEqual(linesOf(rawProject({ MyApp: base })), [
      'apps/MyApp/app.yml: expected an app folder name of lowercase letters, digits, "-" or "_", starting with a letter, got "MyApp"; rename apps/MyApp/',
    ]);
  });

  it('rejects two apps whose Docker names collide', () => {
    const lines = linesOf(rawProject({ 'zen-miner': base, zen_miner: { ...base, domains: ['b.example.com'] } }));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^apps\/zen_miner\/app\.yml: expected an app name distinct .*, got "zen_miner"/);
  });

  it('an empty hosts file needs at least one host', () => {
    assert.deepEqual(linesOf(rawProject({}, { hostsFile: { file: 'hosts.json', data: { hosts: {} } } })), [
      'hosts.json: hosts: expected at least one host, got {}',
    ]);
  });

  it('a valid project comes back with defaults applied', () => {
    const p = valid(rawProject({ shop: base }));
    assert.deepEqual(Object.keys(p.hosts), Object.keys(hostsData().hosts));
    const shop = p.apps[0]!;
    assert.equal(shop.name, 'shop');
    assert.equal(shop.file, 'apps/shop/app.yml');
    assert.equal(shop.config.port, 80);
    assert.deepEqual(shop.config.tls, { mode: 'acme', resolver: 'letsencrypt' });
    assert.match(p.edge.traefik.image, /^traefik:v3\./);
  });
});

describe('helpers', () => {
  it('formatPath', () => {
    assert.equal(formatPath(['accessories', 'postgres', 'port']), 'accessories.postgres.port');
    assert.equal(formatPath(['litestream', 'databases', 2]), 'litestream.databases[2]');
    assert.equal(formatPath([]), '');
  });
  it('formatFound', () => {
    assert.equal(formatFound(undefined), 'nothing');
    assert.equal(formatFound('5432'), '"5432"');
    assert.equal(formatFound({ a: 1 }), '{"a":1}');
  });
  it('closest', () => {
    assert.equal(closest('domian', ['domains', 'image']), 'domains');
    assert.equal(closest('Image', ['domains', 'image']), 'image');
    assert.equal(closest('secret', ['secrets', 'secret_commands']), 'secrets');
    assert.equal(closest('zzz', ['domains', 'image']), undefined);
  });
  it('ConfigError formats every issue, formatError adds the class and (verbose) the stack', () => {
    const err = new ConfigError([
      { file: 'apps/zen_miner/app.yml', path: 'accessories.postgres.port', expected: 'a port binding "127.0.0.1:5432:5432"', found: '"5432"' },
      { file: 'apps/zen_miner/app.yml', path: '', expected: 'valid YAML', found: 'a syntax error', line: 3, column: 7 },
    ]);
    assert.equal(
      err.message,
      'apps/zen_miner/app.yml: accessories.postgres.port: expected a port binding "127.0.0.1:5432:5432", got "5432"\n' +
        'apps/zen_miner/app.yml:3:7: expected valid YAML, got a syntax error',
    );
    assert.equal(formatError(err, false), `ERROR (ConfigError): ${err.message}`);
    assert.match(formatError(err, true), /\n\s+at /);
  });
});
