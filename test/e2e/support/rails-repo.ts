// The Rails stand-in as an app's own git repository, outside Berth's tree: app/ of
// sandbox/images/rails with app.Dockerfile as its Dockerfile, committed, plus an uncommitted
// config/master.key (gitignored and dockerignored, as in a Rails app). A deploy with
// `build: { context: <dir>, on: local }` builds this code and tags it with this repository's commit.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../../../src/sandbox/paths.ts';

const STAND_IN = join(REPO_ROOT, 'sandbox', 'images', 'rails');
const IGNORED = ['/config/master.key', '/storage/*.sqlite3*', '/log/*.log', '/tmp/*', '!/tmp/.keep'];

export interface AppRepo {
  dir: string;
  masterKey: string;
  /** Short HEAD commit (what `git rev-parse --short HEAD` prints). */
  head(): string;
  /** Write files (path relative to the repository → content) and commit them; returns the short commit. */
  commit(message: string, files: Record<string, string>): string;
  read(path: string): string;
  cleanup(): void;
}

export function railsAppRepo(prefix = 'seed-app-'): AppRepo {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(STAND_IN, 'app'), dir, {
    recursive: true,
    filter: (src) => !/\.sqlite3|\.log$|\/tmp\/(?!\.keep)./.test(relative(STAND_IN, src)),
  });
  copyFileSync(join(STAND_IN, 'app.Dockerfile'), join(dir, 'Dockerfile'));
  writeFileSync(join(dir, '.gitignore'), IGNORED.join('\n') + '\n');
  writeFileSync(join(dir, '.dockerignore'), ['/.git', ...IGNORED].join('\n') + '\n');
  const masterKey = randomBytes(16).toString('hex');
  writeFileSync(join(dir, 'config', 'master.key'), masterKey, { mode: 0o600 });
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=seed', '-c', 'user.email=seed@localhost', '-c', 'init.defaultBranch=main', ...args], { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'Rails stand-in');
  return {
    dir,
    masterKey,
    head: () => git('rev-parse', '--short', 'HEAD'),
    commit(message, files) {
      for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
      git('add', '-A');
      git('commit', '-q', '-m', message);
      return git('rev-parse', '--short', 'HEAD');
    },
    read: (path) => readFileSync(join(dir, path), 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
