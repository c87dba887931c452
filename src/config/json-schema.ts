// The editor JSON Schemas (schema/*.schema.json) are generated from the runtime zod schemas, so the
// two never disagree. PURE: scripts/schema.ts writes the files; a unit test fails when they are stale.
import { z } from 'zod';
import { appSchema, edgeSchema, hostsFileSchema } from './schema.ts';

export const SCHEMA_DIR = 'schema';

const SCHEMAS = [
  { file: 'app.schema.json', schema: appSchema, title: 'Berth app (apps/<name>/app.yml)' },
  { file: 'edge.schema.json', schema: edgeSchema, title: 'Berth edge (shared/edge.yml)' },
  { file: 'hosts.schema.json', schema: hostsFileSchema, title: 'Berth hosts (hosts.json)' },
] as const;

/** File name (inside schema/) → content: 2-space JSON plus a newline. Deterministic. */
export function renderJsonSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { file, schema, title } of SCHEMAS) {
    // io "input": a key with a default is optional for the person writing the file.
    const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
    out[file] = `${JSON.stringify({ ...json, title }, null, 2)}\n`;
  }
  return out;
}
