// Asset bridging (asset_path): which releases' assets a colour mounts, the compose mount, and the
// config checks on the path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import type { ReleaseRecord } from '../../src/exec/state.ts';
import { assetsVolumeDir } from '../../src/names.ts';
import { assetArgs, assetPathOf, planAssets } from '../../src/plan/assets-plan.ts';
import { renderApp } from '../../src/plan/render-app.ts';
import { linesOf, rawProject, valid } from '../fixtures/config/project.ts';
import { makeApp, makeProject } from './plan-fixtures.ts';

const rec = (tag: string, createdAt: string): ReleaseRecord => ({
  id: `${tag}-0123456789`, app: 'shop', tag, image: `reg/shop:${tag}`, colour: 'blue', configHash: 'c', secretsHash: 's', createdAt, host: 'h1',
});

describe('planAssets', () => {
  const history = [rec('v2', '2026-01-02T00:00:00Z'), rec('v1', '2026-01-01T00:00:00Z'), rec('v4', '2026-01-04T00:00:00Z'), rec('v3', '2026-01-03T00:00:00Z')];

  it('merges the newest keep-1 other releases, oldest first, the target last', () => {
    assert.deepEqual(planAssets(history, { tag: 'v5', image: 'reg/shop:v5' }, 3).map((s) => s.tag), ['v3', 'v4', 'v5']);
    assert.deepEqual(planAssets(history, { tag: 'v5', image: 'reg/shop:v5' }, 2).map((s) => s.tag), ['v4', 'v5']);
    assert.deepEqual(planAssets(history, { tag: 'v5', image: 'reg/shop:v5' }, 10).map((s) => s.tag), ['v1', 'v2', 'v3', 'v4', 'v5']);
  });

  it('first deploy: only the target', () => {
    assert.deepEqual(planAssets([], { tag: 'v1', image: 'reg/shop:v1' }, 5), [{ tag: 'v1', image: 'reg/shop:v1' }]);
  });

  it('one entry per tag (a config-only redeploy records the same tag again); the target never twice', () => {
    const again = [...history, rec('v4', '2026-01-05T00:00:00Z'), rec('v3', '2026-01-06T00:00:00Z')];
    assert.deepEqual(planAssets(again, { tag: 'v4', image: 'reg/shop:v4' }, 3).map((s) => s.tag), ['v2', 'v3', 'v4']);
  });

  it('rollback to an older release keeps the newer live one (its pages link to its assets)', () => {
    assert.deepEqual(planAssets(history, { tag: 'v3', image: 'reg/shop:v3' }, 2).map((s) => s.tag), ['v4', 'v3']);
  });

  it('the live release is always kept, also when older than the others (after a rollback)', () => {
    // v4 was rolled back to v2; deploying v5 must keep v2's assets (the pages in browsers are v2's).
    assert.deepEqual(planAssets(history, { tag: 'v5', image: 'reg/shop:v5' }, 2, 'v2-0123456789').map((s) => s.tag), ['v2', 'v5']);
    assert.deepEqual(planAssets(history, { tag: 'v5', image: 'reg/shop:v5' }, 3, 'v2-0123456789').map((s) => s.tag), ['v2', 'v4', 'v5']);
    assert.deepEqual(planAssets(history, { tag: 'v5', image: 'reg/shop:v5' }, 3, 'v4-0123456789').map((s) => s.tag), ['v3', 'v4', 'v5']);
  });

  it('host script arguments are tag image pairs in merge order', () => {
    assert.deepEqual(assetArgs(planAssets(history, { tag: 'v5', image: 'reg/shop:v5' }, 2)), ['v4', 'reg/shop:v4', 'v5', 'reg/shop:v5']);
  });
});

describe('asset_path in compose', () => {
  const app = makeApp('shop', { image: 'reg/shop', hosts: ['h1'], volumes: { storage: '/rails/storage' }, asset_path: '/rails/public/assets', workers: { jobs: { command: 'bin/jobs' } } });
  const compose = YAML.parse(renderApp(makeProject([app]), app, { release: 'v7' }).files.find((f) => f.path === 'compose.yml')!.content);

  it('both colours mount their release\'s merged assets read-only at asset_path; workers do not', () => {
    for (const c of ['web-blue', 'web-green']) {
      assert.deepEqual(compose.services[c].volumes, ['storage:/rails/storage', '/var/lib/berth/apps/shop/assets/volumes/v7:/rails/public/assets:ro']);
    }
    assert.deepEqual(compose.services['worker-jobs'].volumes, ['storage:/rails/storage']);
  });

  it('rollback finds the mount in the release\'s own compose file', () => {
    assert.equal(assetPathOf(compose, assetsVolumeDir('shop', '')), '/rails/public/assets');
    const plain = makeApp('shop', { image: 'reg/shop', hosts: ['h1'] });
    assert.equal(assetPathOf(YAML.parse(renderApp(makeProject([plain]), plain, { release: 'v7' }).files[0]!.content), assetsVolumeDir('shop', '')), undefined);
  });

  it('without asset_path nothing is mounted', () => {
    const plain = makeApp('shop', { image: 'reg/shop', hosts: ['h1'] });
    const doc = YAML.parse(renderApp(makeProject([plain]), plain, { release: 'v7' }).files.find((f) => f.path === 'compose.yml')!.content);
    assert.equal(doc.services['web-blue'].volumes, undefined);
  });
});

describe('asset_path checks', () => {
  const web = (over: Record<string, unknown> = {}) => ({ image: 'ghcr.io/acme/app', hosts: ['h1'], ...over });

  it('asset_path must be a plain absolute path', () => {
    valid(rawProject({ a: web({ asset_path: '/rails/public/assets' }) }));
    for (const bad of ['rails/public', '/rails/../etc', '/', '/a b', '/a;rm -rf', '/a:/b', "/a'b", '/$HOME']) {
      const lines = linesOf(rawProject({ a: web({ asset_path: bad }) }));
      assert.equal(lines.length, 1, `${bad}: ${lines.join('\n')}`);
      assert.match(lines[0]!, /^apps\/a\/app\.yml: asset_path: expected /);
    }
  });

  it('asset_path apart from the declared volumes', () => {
    assert.deepEqual(linesOf(rawProject({ a: web({ volumes: { pub: '/rails/public' }, asset_path: '/rails/public/assets' }) })), [
      'apps/a/app.yml: asset_path: expected a directory apart from the declared volumes (volume "pub" is mounted at "/rails/public"), got "/rails/public/assets"; keep compiled assets in the image (e.g. /rails/public/assets) and out of volumes',
    ]);
  });
});
