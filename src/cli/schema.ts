// Handler of `schema`: regenerate schema/*.schema.json from the zod schemas (src/config/schema.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderJsonSchemas, SCHEMA_DIR } from '../config/json-schema.ts';
import { projectRoot } from './root.ts';

export async function schemaCli() {
  const dir = join(projectRoot(), SCHEMA_DIR);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(renderJsonSchemas())) {
    writeFileSync(join(dir, file), content);
    console.log(`wrote ${SCHEMA_DIR}/${file}`);
  }
}
