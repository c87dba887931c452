// Which code a bench run measured: a hash of the files that decide the figures (Berth's sources,
// the scripts, the sandbox images and test app, the lockfile), as they are in the working tree,
// uncommitted edits included. Committing bench results or editing the README does not change it,
// so every full run of the same code is pooled (src/bench/across-runs.ts).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CODE_PATHS = ['src', 'scripts', 'sandbox', 'test/e2e/support', 'package.json', 'package-lock.json', 'tsconfig.json'];

const git = (root: string, args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });

export interface CodeIdentity {
  codeId: string;
  git?: { head: string; dirty: boolean };
}

/** Without git the run gets an id of its own (`unknown-<run id>`): it is kept but pooled with nothing. */
export function codeIdentity(root: string, runId: string): CodeIdentity {
  let files: string[];
  try {
    files = git(root, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...CODE_PATHS]).split('\0').filter(Boolean);
  } catch {
    return { codeId: `unknown-${runId}` };
  }
  const h = createHash('sha256');
  for (const f of [...new Set(files)].sort()) {
    h.update(`${f}\0`);
    try {
      h.update(readFileSync(join(root, f)));
    } catch {
      h.update('\0(deleted)');
    }
    h.update('\0');
  }
  let head = 'unknown';
  let dirty = false;
  try {
    head = git(root, ['rev-parse', 'HEAD']).trim();
    dirty = git(root, ['status', '--porcelain', '--', ...CODE_PATHS]).trim() !== '';
  } catch {
    /* the hash above is what matters */
  }
  return { codeId: h.digest('hex').slice(0, 16), git: { head, dirty } };
}
