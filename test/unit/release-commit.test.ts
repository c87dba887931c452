// The release id falls back to the app's own commit: its build context's repository (the app's
// repository beside this one), not the project's, when the app builds its image.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseRelease } from '../../src/app/plan.ts';
import type { App } from '../../src/config/schema.ts';

const app = (config: Record<string, unknown>): App => ({ name: 'web', dir: '/p/apps/web', file: 'apps/web/app.yml', config: config as App['config'] });

test('an app that builds takes the commit of its build context', async () => {
  const asked: (string | undefined)[] = [];
  const git = async (dir?: string) => (asked.push(dir), dir === '/src/web' ? 'c0ffee1' : 'pr0j3ct');
  const r = await chooseRelease(app({ image: 'r/web', build: { context: '../../../src/web', dockerfile: 'Dockerfile', on: 'local' } }), undefined, git);
  assert.deepEqual(r, { release: 'c0ffee1', source: 'git' });
  assert.deepEqual(asked, ['/src/web']);
});

test('a build context outside any git checkout falls back to the project commit', async () => {
  const git = async (dir?: string) => (dir ? undefined : 'pr0j3ct');
  assert.equal((await chooseRelease(app({ image: 'r/web', build: { context: '/tmp/not-git' } }), undefined, git)).release, 'pr0j3ct');
});

test('an app that pulls takes the project commit; a flag or an image tag wins over any commit', async () => {
  const git = async (dir?: string) => (dir ? 'wrong' : 'pr0j3ct');
  assert.equal((await chooseRelease(app({ image: 'r/web' }), undefined, git)).release, 'pr0j3ct');
  assert.equal((await chooseRelease(app({ image: 'r/web', build: { context: '.' } }), 'v9', git)).release, 'v9');
  assert.equal((await chooseRelease(app({ image: 'r/web:t1', build: { context: '.' } }), undefined, git)).release, 't1');
});
