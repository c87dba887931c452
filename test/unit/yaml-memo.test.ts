// parsedYaml: one parse per text, however many planners read it (rollback and deploy share it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsedYaml } from '../../src/plan/yaml.ts';

test('the same text is parsed once: every reader gets the same document', () => {
  const text = 'services:\n  web-blue: {}\n  worker-jobs: {}\n';
  const a = parsedYaml(text);
  assert.deepEqual(a, { services: { 'web-blue': {}, 'worker-jobs': {} } });
  assert.equal(parsedYaml(`${text}`), a, 'an equal string (another object) finds it too');
  assert.notEqual(parsedYaml('services: {}\n'), a);
});

test('many texts: the memo stays bounded and still answers right', () => {
  for (let i = 0; i < 100; i++) assert.deepEqual(parsedYaml(`n: ${i}\n`), { n: i });
});
