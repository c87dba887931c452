import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../../src/config/load.ts';
import { ConfigError, formatIssue } from '../../src/errors.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/config/${name}/`, import.meta.url));

async function loadLines(root: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await loadProject(root, { env });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map(formatIssue);
  }
  assert.fail('expected a ConfigError');
}

describe('loadProject', () => {
  it('loads the example apps in this repo cleanly', async () => {
    const p = await loadProject(repo, { env: {} });
    assert.deepEqual(
      p.apps.map((a) => [a.name, a.file]),
      [
        ['running_calendar', 'apps/running_calendar/app.yml'],
        ['wombatworkouts', 'apps/wombatworkouts/app.yml'],
        ['zen_miner', 'apps/zen_miner/app.yml'],
        ['zen_miner-growth', 'apps/zen_miner/app.growth.yml'],
      ],
    );
    const wombat = p.apps.find((a) => a.name === 'wombatworkouts')!;
    assert.equal(wombat.config.build?.on, 'local'); // YAML 1.2: `on` stays a string key
    assert.equal(wombat.config.litestream?.databases.length, 4);
    assert.equal(wombat.dir, join(repo, 'apps', 'wombatworkouts'));
    assert.ok(Object.keys(p.edge.acme.resolvers).includes('cloudflare'));
  });

  it('reads JSON, YAML (.yaml) and TypeScript app configs, edge.json and BERTH_HOSTS_FILE', async () => {
    const p = await loadProject(fixture('formats'), { env: { BERTH_HOSTS_FILE: 'hosts.staging.json' } });
    assert.deepEqual(Object.keys(p.hosts), ['staging1']);
    assert.equal(p.edge.acme.ca, 'staging');
    assert.deepEqual(
      p.apps.map((a) => [a.name, a.file]),
      [
        ['jsonapp', 'apps/jsonapp/app.json'],
        ['tsapp', 'apps/tsapp/app.config.ts'],
        ['yamlapp', 'apps/yamlapp/app.yaml'],
      ],
    );
    assert.deepEqual(p.apps[1]!.config.env, { GREETING: 'hello from ts.example.com' });
  });

  it('a missing hosts file names the file it looked for', async () => {
    const lines = await loadLines(fixture('formats'));
    assert.deepEqual(lines, ['hosts.json: expected a hosts file listing the servers, got nothing; create it, or point BERTH_HOSTS_FILE at one']);
  });

  it('reports every problem in every file at once: syntax errors with line numbers, missing and duplicate files', async () => {
    assert.deepEqual(await loadLines(fixture('broken')), [
      'apps/blog/app.yml:5:1: expected valid YAML, got a syntax error (Map keys must be unique)',
      'apps/empty/: expected one of app.yml, app.yaml, app.json, app.config.ts, app.config.js, app.config.mjs, got nothing',
      'apps/shop/app.yml: domains[0]: expected a lowercase DNS name such as "example.com", or a wildcard such as "*.example.com", got "shop.example.com - www.shop.example.com"',
      'apps/twice/app.yml: expected exactly one config file in the folder, got app.yml, app.json; delete all but one',
      'hosts.json:3:41: expected valid JSON, got a syntax error (Expected double-quoted property name)',
      'shared/: expected one of edge.yml, edge.yaml, edge.json, got nothing',
    ]);
  });

  describe('in a temporary project', () => {
    const withProject = async (files: Record<string, string>, fn: (root: string) => Promise<void>) => {
      const root = mkdtempSync(join(tmpdir(), 'berth-config-'));
      try {
        for (const [path, content] of Object.entries(files)) {
          mkdirSync(join(root, path, '..'), { recursive: true });
          writeFileSync(join(root, path), content);
        }
        await fn(root);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    };
    const hosts = JSON.stringify({ hosts: { h1: { ssh: 'root@203.0.113.10' } } });
    const edge = 'acme:\n  email: ops@example.com\n';

    it('a YAML syntax error names the file and line', async () => {
      await withProject(
        { 'hosts.json': hosts, 'shared/edge.yml': edge, 'apps/web/app.yml': 'image: ghcr.io/acme/web\nhosts: [h1\nport: 80\n' },
        async (root) => {
          const [line, ...rest] = await loadLines(root);
          assert.deepEqual(rest, []);
          assert.match(line!, /^apps\/web\/app\.yml:\d+:\d+: expected valid YAML, got a syntax error \(/);
        },
      );
    });

    it('an empty app file is an empty mapping (the schema says what is missing)', async () => {
      await withProject({ 'hosts.json': hosts, 'shared/edge.yml': edge, 'apps/web/app.yml': '' }, async (root) => {
        assert.deepEqual(await loadLines(root), ['apps/web/app.yml: image: expected a string, got nothing']);
      });
    });

    it('never reads a config file from above the app folder', async () => {
      await withProject(
        { 'hosts.json': hosts, 'shared/edge.yml': edge, 'apps/app.yml': 'image: ghcr.io/acme/stray\nhosts: [h1]\n', 'apps/web/README.md': 'no config here' },
        async (root) => {
          assert.deepEqual(await loadLines(root), [
            'apps/web/: expected one of app.yml, app.yaml, app.json, app.config.ts, app.config.js, app.config.mjs, got nothing',
          ]);
        },
      );
    });

    it('ignores dot-folders under apps/', async () => {
      await withProject(
        { 'hosts.json': hosts, 'shared/edge.yml': edge, 'apps/.cache/x': '', 'apps/web/app.yml': 'image: ghcr.io/acme/web\nhosts: [h1]\n' },
        async (root) => {
          const p = await loadProject(root, { env: {} });
          assert.deepEqual(
            p.apps.map((a) => a.name),
            ['web'],
          );
        },
      );
    });
  });
});
