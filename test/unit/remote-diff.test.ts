// plan --remote: what a deploy changes compared with the live release (names only, never values).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRemoteDiff, remoteDiff } from '../../src/plan/remote-diff.ts';
import { renderApp } from '../../src/plan/render-app.ts';
import { makeApp, makeProject } from './plan-fixtures.ts';

const files = (cfg: Record<string, unknown>) => {
  const app = makeApp('shop', { image: 'acme/shop', hosts: ['h1'], port: 3000, ...cfg });
  const r = renderApp(makeProject([app]), app, { release: 'v1' });
  const f = (p: string) => r.files.find((x) => x.path === p)!.content;
  return { compose: f('compose.yml'), routing: f('routing.blue.yml') };
};

test('env keys, secrets, volumes, domains and routes that change; values never shown', () => {
  const before = files({ domains: ['shop.example.com'], env: { KEEP: 'x', GONE: 'y', EDIT: 'old-value' }, secrets: ['S1'], volumes: { data: '/data' } });
  const after = files({ domains: ['shop.example.com', 'new.example.com'], env: { KEEP: 'x', EDIT: 'new-value', NEW: 'z' }, secrets: ['S1', 'S2'], volumes: { data: '/data', logs: '/logs' } });
  const d = remoteDiff('h1', { release: 'v1-a', colour: 'blue' }, 'v2-b', before, after, 'bin/rails db:migrate');
  assert.deepEqual(d.env, { added: ['NEW'], removed: ['GONE'], changed: ['EDIT'] });
  assert.deepEqual(d.secrets, { added: ['S2'], removed: [] });
  assert.deepEqual(d.volumes, { added: ['logs:/logs'], removed: [] });
  assert.deepEqual(d.domains, { added: ['new.example.com'], removed: [] });
  assert.equal(d.routes.added.length, 1);
  const text = formatRemoteDiff(d);
  assert.match(text, /h1: live v1-a \(blue\) → v2-b/);
  assert.match(text, /release cmd\s+bin\/rails db:migrate \(runs once in the new image, before the switch\)/);
  assert.match(text, /env keys\s+\+ NEW, - GONE, ~ EDIT/);
  assert.doesNotMatch(text, /old-value|new-value/);
});

test('nothing deployed yet: everything is new; a release from before secrets were files counts its ${NAME} env as secrets', () => {
  const after = files({ domains: ['shop.example.com'], secrets: ['S1'] });
  const d = remoteDiff('h1', null, 'v1-a', {}, after);
  assert.deepEqual(d.secrets.added, ['S1']);
  assert.match(formatRemoteDiff(d), /nothing deployed yet/);
  const legacy = 'services:\n  web-blue:\n    environment:\n      A: "1"\n      S1: ${S1}\n';
  const d2 = remoteDiff('h1', { release: 'v0', colour: 'blue' }, 'v1-a', { compose: legacy }, after);
  assert.deepEqual(d2.secrets, { added: [], removed: [] });
  assert.deepEqual(d2.env.removed, ['A']);
});
