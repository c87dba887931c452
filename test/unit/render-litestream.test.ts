// litestream.yml: a sync_interval under a second also makes Litestream read the WAL that often
// (its monitor-interval, 1 s by default), or the shorter interval would change nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import { appSchema, type App } from '../../src/config/schema.ts';
import { renderLitestream } from '../../src/plan/render-litestream.ts';

const app = (sync?: string): App => ({
  name: 'shop',
  dir: '/x/apps/shop',
  file: 'apps/shop/app.yml',
  config: appSchema.parse({
    image: 'shop',
    volumes: { data: '/data' },
    secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
    litestream: { databases: ['/data/app.sqlite3'], replica: { url: 's3://bkt/shop' }, ...(sync ? { sync_interval: sync } : {}) },
  }),
});

const db = (a: App) => (YAML.parse(renderLitestream(a)) as { dbs: Record<string, unknown>[] }).dbs[0]!;

test('the default 1s sync leaves Litestream its own monitor interval', () => {
  const d = db(app());
  assert.equal((d.replica as Record<string, unknown>)['sync-interval'], '1s');
  assert.equal('monitor-interval' in d, false);
  assert.equal('monitor-interval' in db(app('5s')), false);
});

test('a sync_interval under a second sets monitor-interval to the same value', () => {
  for (const s of ['100ms', '250ms', '999ms']) {
    const d = db(app(s));
    assert.equal(d['monitor-interval'], s);
    assert.equal((d.replica as Record<string, unknown>)['sync-interval'], s);
  }
});
