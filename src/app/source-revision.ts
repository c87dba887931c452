// The build context's git revision, read on the operator machine (local git, no server): the last
// commit that touched the context directory, plus a hash of its uncommitted changes when dirty.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SourceRevision } from '../plan/release-id.ts';

const run = promisify(execFile);

async function git(dir: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-C', dir, ...args], { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  return stdout;
}

/** undefined when `dir` is not inside a git work tree (or has no commit yet). */
export async function sourceRevision(dir: string): Promise<SourceRevision | undefined> {
  try {
    if ((await git(dir, ['rev-parse', '--is-inside-work-tree'])).trim() !== 'true') return undefined;
  } catch {
    return undefined;
  }
  let commit: string;
  try {
    // The last commit touching this directory: an unrelated commit elsewhere in a monorepo is not a release.
    commit = (await git(dir, ['log', '-1', '--format=%h', '--', '.'])).trim() || (await git(dir, ['rev-parse', '--short', 'HEAD'])).trim();
  } catch {
    return undefined;
  }
  if (!commit) return undefined;
  const status = await git(dir, ['status', '--porcelain', '--untracked-files=all', '--', '.']);
  if (!status.trim()) return { commit };
  // Dirty: hash the diff against HEAD and every untracked file's path and content, so the same
  // edits give the same id (a rerun converges) and any other edit gives a new one.
  const h = createHash('sha256');
  h.update(await git(dir, ['diff', 'HEAD', '--binary', '--', '.']));
  const untracked = (await git(dir, ['ls-files', '--others', '--exclude-standard', '-z', '--', '.'])).split('\0').filter(Boolean).sort();
  for (const f of untracked) {
    h.update(`\0${f}\0`);
    h.update(await readFile(join(dir, f)).catch(() => Buffer.from('')));
  }
  return { commit, dirtyHash: h.digest('hex').slice(0, 12) };
}
