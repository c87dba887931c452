import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectEdgeSecretNames, collectSecretNames, resolveSecrets } from '../../src/config/secrets.ts';
import { ConfigError, formatIssue } from '../../src/errors.ts';
import { rawProject, valid } from '../fixtures/config/project.ts';

const project = valid(
  rawProject({
    shop: {
      image: 'ghcr.io/acme/shop',
      hosts: ['h1'],
      registry: { server: 'ghcr.io', username: 'acme', password_secret: 'GHCR_TOKEN' },
      secrets: ['RAILS_MASTER_KEY', 'LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY', 'POSTGRES_PASSWORD'],
      secret_commands: { GHCR_TOKEN: 'gh auth token' },
      volumes: { storage: '/rails/storage' },
      litestream: { databases: ['/rails/storage/production.sqlite3'], replica: { url: 's3://b/p' } },
      env: { DATABASE_URL: 'postgres://u:${POSTGRES_PASSWORD}@postgres/db' },
      accessories: { postgres: { image: 'postgres:16', secrets: ['POSTGRES_PASSWORD'] } },
    },
  }),
);
const shop = project.apps[0]!;

const noCommands = async (cmd: string): Promise<string> => assert.fail(`unexpected command ${cmd}`);

describe('secrets', () => {
  it('collectSecretNames lists every secret the app needs, sorted', () => {
    assert.deepEqual(collectSecretNames(shop), ['GHCR_TOKEN', 'LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY', 'POSTGRES_PASSWORD', 'RAILS_MASTER_KEY']);
  });

  it('collectEdgeSecretNames adds DNS-01 tokens', () => {
    assert.deepEqual(collectEdgeSecretNames(project.edge), ['CF_DNS_API_TOKEN']);
  });

  it('reads BERTH_SECRET_<NAME> before <NAME>', async () => {
    const values = await resolveSecrets(['RAILS_MASTER_KEY', 'POSTGRES_PASSWORD'], shop, { BERTH_SECRET_RAILS_MASTER_KEY: 'prefixed', RAILS_MASTER_KEY: 'plain', POSTGRES_PASSWORD: 'pw' }, noCommands);
    assert.deepEqual(values, { POSTGRES_PASSWORD: 'pw', RAILS_MASTER_KEY: 'prefixed' });
  });

  it('runs the secret command when the environment has no value (the environment wins)', async () => {
    const ran: string[] = [];
    const run = async (cmd: string, name: string) => {
      ran.push(`${name}: ${cmd}`);
      return 'ghp_token\n';
    };
    assert.deepEqual(await resolveSecrets(['GHCR_TOKEN'], shop, {}, run), { GHCR_TOKEN: 'ghp_token' });
    assert.deepEqual(ran, ['GHCR_TOKEN: gh auth token']);
    assert.deepEqual(await resolveSecrets(['GHCR_TOKEN'], shop, { GHCR_TOKEN: 'from-env' }, noCommands), { GHCR_TOKEN: 'from-env' });
  });

  it('lists every missing secret at once, with how to provide it', async () => {
    const err = await resolveSecrets(['RAILS_MASTER_KEY', 'GHCR_TOKEN', 'POSTGRES_PASSWORD'], shop, { RAILS_MASTER_KEY: '' }, async () => '').catch((e: unknown) => e);
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.issues.map(formatIssue), [
      'apps/shop/app.yml: secret_commands.GHCR_TOKEN: expected a value for secret GHCR_TOKEN, got empty output from "gh auth token"; fix the command, or export BERTH_SECRET_GHCR_TOKEN',
      'apps/shop/app.yml: secrets: expected a value for secret POSTGRES_PASSWORD, got nothing; export BERTH_SECRET_POSTGRES_PASSWORD=… (or POSTGRES_PASSWORD=…), or add secret_commands: { POSTGRES_PASSWORD: "<command printing it>" }',
      'apps/shop/app.yml: secrets: expected a value for secret RAILS_MASTER_KEY, got nothing; export BERTH_SECRET_RAILS_MASTER_KEY=… (or RAILS_MASTER_KEY=…), or add secret_commands: { RAILS_MASTER_KEY: "<command printing it>" }',
    ]);
  });

  it('a failing command propagates the runner error', async () => {
    await assert.rejects(
      resolveSecrets(['GHCR_TOKEN'], shop, {}, async () => {
        throw new Error('gh: not logged in');
      }),
      /gh: not logged in/,
    );
  });
});
