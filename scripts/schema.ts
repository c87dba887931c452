// npm run schema: regenerate schema/*.schema.json from the zod schemas (src/config/schema.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlags, usage } from '../src/cli/args.ts';
import { main } from '../src/cli/main.ts';
import { renderJsonSchemas, SCHEMA_DIR } from '../src/config/json-schema.ts';

const U = 'usage: npm run schema   (regenerates schema/*.schema.json from src/config/schema.ts)';
await main(async () => {
  usage(U, parseFlags(process.argv.slice(2), { help: { type: 'boolean', short: 'h' } }, U, { max: 0 }).values);
  const root = process.env.BERTH_ROOT ?? process.cwd();
  const dir = join(root, SCHEMA_DIR);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(renderJsonSchemas())) {
    writeFileSync(join(dir, file), content);
    console.log(`wrote ${SCHEMA_DIR}/${file}`);
  }
});
