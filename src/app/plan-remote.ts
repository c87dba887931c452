// `plan --remote`: the render compared with the release live on each host (reads only: one observe
// and one read of the live release's files per host). Secret values fetched with the release stay
// in memory, registered for redaction; only names are reported.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../config/load.ts';
import { formatRemoteDiff, remoteDiff, type RemoteDiff } from '../plan/remote-diff.ts';
import { releaseId } from '../plan/deploy-plan.ts';
import { filesFor, routingFile, type AppRender } from '../plan/types.ts';
import { fileOf } from './deploy.ts';
import { observeApp } from './app-on-host.ts';
import type { Deps } from './deps.ts';
import { ensureContext, hostHandle } from './host.ts';
import { fetchRelease } from './release-files.ts';

export async function planRemote(deps: Deps, renders: AppRender[]): Promise<RemoteDiff[]> {
  const project = await loadProject(deps.root);
  const out: RemoteDiff[] = [];
  for (const render of renders) {
    const app = project.apps.find((a) => a.name === render.app)!;
    if (app.config.cluster) {
      deps.log.info(`${app.name}: runs on cluster ${app.config.cluster}; --remote compares per-host releases only (see compose/${app.name}/stack.yml and npm run status)`);
      continue;
    }
    const id = releaseId(render.release, render.configHash);
    for (const hn of render.hosts) {
      const h = hostHandle(hn, project.hosts[hn]!);
      await ensureContext(deps.runner, h);
      const state = await observeApp(deps, h, app.name);
      const cur = state.current;
      // What this host gets (its own compose.yml when the placement differs per host; no routing where no web runs).
      const files = filesFor(render, hn);
      const after = { compose: fileOf({ files }, 'compose.yml'), routing: files.find((f) => f.path === routingFile(cur?.colour === 'blue' ? 'green' : 'blue'))?.content };
      let before = {};
      if (cur) {
        const dir = await mkdtemp(join(tmpdir(), 'berth-plan-remote-'));
        try {
          await fetchRelease(deps, h, app.name, cur.release, dir);
          before = {
            compose: await readFile(join(dir, 'compose.yml'), 'utf8').catch(() => undefined),
            routing: await readFile(join(dir, routingFile(cur.colour)), 'utf8').catch(() => undefined),
          };
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
      const d = remoteDiff(hn, cur ? { release: cur.release, colour: cur.colour } : null, id, before, after, app.config.release_command);
      out.push({ ...d, host: `${app.name}@${hn}` });
    }
  }
  return out;
}

export const formatRemote = (diffs: RemoteDiff[]) => ['', 'on the servers (compared with the live release):', ...diffs.map(formatRemoteDiff)].join('\n');
