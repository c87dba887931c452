import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderJsonSchemas, SCHEMA_DIR } from '../../src/config/json-schema.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

describe('JSON Schema', () => {
  const rendered = renderJsonSchemas();

  it('renders app, edge and hosts schemas deterministically', () => {
    assert.deepEqual(Object.keys(rendered).sort(), ['app.schema.json', 'edge.schema.json', 'hosts.schema.json']);
    assert.deepEqual(renderJsonSchemas(), rendered);
    const app = JSON.parse(rendered['app.schema.json']!);
    assert.equal(app.additionalProperties, false); // unknown keys are errors in the editor too
    assert.deepEqual(app.required, ['image']); // io "input": keys with defaults stay optional
  });

  for (const file of ['app.schema.json', 'edge.schema.json', 'hosts.schema.json']) {
    it(`${SCHEMA_DIR}/${file} is up to date (run: npm run schema)`, () => {
      const committed = readFileSync(`${repo}${SCHEMA_DIR}/${file}`, 'utf8');
      assert.equal(committed, rendered[file], `${SCHEMA_DIR}/${file} is stale: run npm run schema and commit the result`);
    });
  }
});
