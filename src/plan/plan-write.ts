// Which files under compose/ a plan adds, changes, keeps or removes (PURE: renders + the files
// already there in, a list out). The writer in src/app/plan.ts applies it.
import type { Project } from '../config/schema.ts';
import { appRenderDir, COMPOSE_DIR, EDGE_RENDER_DIR } from './app-facts.ts';
import type { AppRender, EdgeRender } from './types.ts';

export type WriteStatus = 'added' | 'changed' | 'unchanged' | 'removed';

export interface PlannedFile {
  /** Relative to the project root, e.g. "compose/zen_miner/compose.yml". */
  path: string;
  status: WriteStatus;
  /** New content (absent for removed files). */
  content?: string;
  /** Content on disk before (absent for added files). */
  previous?: string;
}

export interface Renders {
  edge?: EdgeRender;
  apps: AppRender[];
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Compare rendered files with `existing` (path relative to the project root → content, for the
 * files under compose/). Only directories that were rendered are compared, so planning one app
 * never removes another's files; directories of apps that no longer exist in the project are
 * removed when every app of the project was rendered.
 */
export function planWrite(project: Pick<Project, 'apps'>, renders: Renders, existing: Readonly<Record<string, string>>): PlannedFile[] {
  const wanted = new Map<string, string>();
  const dirs: string[] = [];
  if (renders.edge) {
    dirs.push(EDGE_RENDER_DIR);
    for (const f of renders.edge.files) wanted.set(`${EDGE_RENDER_DIR}/${f.path}`, f.content);
  }
  for (const r of renders.apps) {
    dirs.push(appRenderDir(r.app));
    for (const f of r.files) wanted.set(`${appRenderDir(r.app)}/${f.path}`, f.content);
  }
  const everyApp = project.apps.every((a) => renders.apps.some((r) => r.app === a.name));
  const known = new Set([EDGE_RENDER_DIR, ...project.apps.map((a) => appRenderDir(a.name))]);
  const inScope = (path: string) => {
    if (dirs.some((d) => path.startsWith(`${d}/`))) return true;
    if (!everyApp || !path.startsWith(`${COMPOSE_DIR}/`)) return false;
    const dir = path.split('/').slice(0, 2).join('/');
    // Files directly in compose/ (a README) are not Berth's to remove.
    return path.split('/').length > 2 && !known.has(dir);
  };

  const out: PlannedFile[] = [];
  for (const [path, content] of wanted) {
    const previous = existing[path];
    if (previous === undefined) out.push({ path, status: 'added', content });
    else out.push({ path, status: previous === content ? 'unchanged' : 'changed', content, previous });
  }
  for (const [path, previous] of Object.entries(existing)) {
    if (!wanted.has(path) && inScope(path)) out.push({ path, status: 'removed', previous });
  }
  return out.sort(byPath);
}
