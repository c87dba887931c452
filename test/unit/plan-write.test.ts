import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiff } from '../../src/plan/diff.ts';
import { planWrite } from '../../src/plan/plan-write.ts';
import type { AppRender, EdgeRender } from '../../src/plan/types.ts';

const appRender = (app: string, files: Record<string, string>): AppRender => ({
  app, release: 'r', image: 'i', configHash: 'h', secrets: [], hosts: [], files: Object.entries(files).map(([path, content]) => ({ path, content })),
});
const edge: EdgeRender = { files: [{ path: 'compose.yml', content: 'e' }], configHash: 'x', secrets: [] };
const project = { apps: [{ name: 'a' }, { name: 'b' }] } as never;

test('statuses: added, changed, unchanged, removed; sorted by path', () => {
  const out = planWrite(project, { edge, apps: [appRender('a', { 'compose.yml': 'new', 'routing.blue.yml': 'same' })] }, {
    'compose/a/compose.yml': 'old',
    'compose/a/routing.blue.yml': 'same',
    'compose/a/litestream.yml': 'gone',
    'compose/b/compose.yml': 'other app, not planned',
  });
  assert.deepEqual(out.map((f) => [f.path, f.status]), [
    ['compose/a/compose.yml', 'changed'],
    ['compose/a/litestream.yml', 'removed'],
    ['compose/a/routing.blue.yml', 'unchanged'],
    ['compose/edge/compose.yml', 'added'],
  ]);
});

test('when every app is planned, directories of deleted apps are removed (files directly in compose/ are kept)', () => {
  const out = planWrite(project, { edge, apps: [appRender('a', {}), appRender('b', {})] }, {
    'compose/README.md': 'keep',
    'compose/old_app/compose.yml': 'x',
    'compose/edge/compose.yml': 'e',
  });
  assert.deepEqual(out.map((f) => [f.path, f.status]), [
    ['compose/edge/compose.yml', 'unchanged'],
    ['compose/old_app/compose.yml', 'removed'],
  ]);
});

test('formatDiff shows changed lines with context', () => {
  const d = formatDiff('a\nb\nc\nd\ne\nf\ng', 'a\nb\nc\nD\ne\nf\ng', 1);
  assert.deepEqual(d, ['@@ line 3 @@', '  c', '- d', '+ D', '  e']);
});
