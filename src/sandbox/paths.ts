import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest directory holding package.json: the same from src/ under tsx and from the bundles in dist/. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = dirname(dir); !existsSync(join(dir, 'package.json')) && up !== dir; up = dirname(up)) dir = up;
  return dir;
}

export const REPO_ROOT = repoRoot();
export const SANDBOX_DIR = join(REPO_ROOT, 'sandbox');
