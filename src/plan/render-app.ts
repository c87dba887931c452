// renderApp: everything one release of one app consists of (PURE: config + release id in, files out).
import type { App, Project } from '../config/schema.ts';
import { COLOURS } from '../names.ts';
import { collectSecretNames } from '../config/secrets.ts';
import { appImage } from './app-facts.ts';
import { accessoryEnv, placeApp, type Placement, publishedBinding } from './placement.ts';
import { hashFiles, sha256, stableStringify } from './hash.ts';
import { type HostPart, renderCompose } from './render-compose.ts';
import { renderClusterApp } from './render-cluster-app.ts';
import { renderLitestream } from './render-litestream.ts';
import { renderRouting } from './render-routing.ts';
import { type AppRender, type RenderedFile, routingFile } from './types.ts';

export interface RenderAppOptions {
  /** Release id (image tag for untagged images). */
  release: string;
}

/** Short hash of an app's validated config (label berth.config-hash). */
export const appConfigHash = (app: App) => sha256(stableStringify(app.config)).slice(0, 16);

/** compose/<app>/hosts/<host>/compose.yml: one host's compose file when the placement differs per host. */
export const hostComposePath = (host: string) => `hosts/${host}/compose.yml`;

export function renderApp(project: Project, app: App, opts: RenderAppOptions): AppRender {
  // A cluster app renders a Swarm stack instead of a compose project (src/engine/swarm).
  if (app.config.cluster) return renderClusterApp(project, app, opts);
  const image = appImage(app.config, opts.release);
  const placement = placeApp(app, project.hosts);
  const files: RenderedFile[] = [];
  let litestreamHash: string | undefined;
  if (app.config.litestream) {
    const content = renderLitestream(app);
    litestreamHash = sha256(content).slice(0, 16);
    files.push({ path: 'litestream.yml', content });
  }
  const input = { app, release: opts.release, image, configHash: appConfigHash(app), litestreamHash };
  // Every process on every host (the shape before placement): one compose.yml, as it always was.
  // Otherwise one compose file per host with only what runs there, so `docker compose up` on a host
  // by hand starts exactly its part.
  const composeFiles: RenderedFile[] = placement.uniform
    ? [{ path: 'compose.yml', content: renderCompose(input) }]
    : placement.hosts.map((h) => ({ path: hostComposePath(h), content: renderCompose({ ...input, host: hostPart(app, placement, project, h) }) }));
  files.unshift(...composeFiles);
  for (const colour of COLOURS) files.push({ path: routingFile(colour), content: renderRouting(app, colour) });
  const hostFiles: Record<string, RenderedFile[]> = {};
  for (const h of placement.hosts) {
    const on = placement.on[h]!;
    hostFiles[h] = placement.uniform
      ? files
      : files.flatMap((f) => {
          if (f.path === hostComposePath(h)) return [{ ...f, path: 'compose.yml' }];
          if (f.path === 'litestream.yml') return on.image ? [f] : [];
          if (f.path.startsWith('routing.')) return on.web ? [f] : [];
          return [];
        });
  }
  return {
    app: app.name,
    release: opts.release,
    image,
    files,
    configHash: hashFiles(files),
    secrets: collectSecretNames(app),
    hosts: placement.hosts,
    placement,
    hostFiles,
  };
}

function hostPart(app: App, placement: Placement, project: Project, host: string): HostPart {
  const processes = placement.on[host]!;
  const bindings: Record<string, string | undefined> = {};
  for (const a of processes.accessories) bindings[a] = publishedBinding(app, placement, project.hosts, a, host);
  return { name: host, processes, env: processes.image ? accessoryEnv(app, placement, project.hosts, host) : {}, bindings };
}
