// renderApp: everything one release of one app consists of (PURE: config + release id in, files out).
import type { App, Project } from '../config/schema.ts';
import { COLOURS } from '../names.ts';
import { collectSecretNames } from '../config/secrets.ts';
import { appImage } from './app-facts.ts';
import { selectHosts } from '../config/rules.ts';
import { hashFiles, sha256, stableStringify } from './hash.ts';
import { renderCompose } from './render-compose.ts';
import { renderLitestream } from './render-litestream.ts';
import { renderRouting } from './render-routing.ts';
import { type AppRender, type RenderedFile, routingFile } from './types.ts';

export interface RenderAppOptions {
  /** Release id (image tag for untagged images). */
  release: string;
}

/** Short hash of an app's validated config (label berth.config-hash). */
export const appConfigHash = (app: App) => sha256(stableStringify(app.config)).slice(0, 16);

export function renderApp(project: Project, app: App, opts: RenderAppOptions): AppRender {
  const image = appImage(app.config, opts.release);
  const files: RenderedFile[] = [];
  let litestreamHash: string | undefined;
  if (app.config.litestream) {
    const content = renderLitestream(app);
    litestreamHash = sha256(content).slice(0, 16);
    files.push({ path: 'litestream.yml', content });
  }
  files.unshift({
    path: 'compose.yml',
    content: renderCompose({ app, release: opts.release, image, configHash: appConfigHash(app), litestreamHash }),
  });
  for (const colour of COLOURS) files.push({ path: routingFile(colour), content: renderRouting(app, colour) });
  return {
    app: app.name,
    release: opts.release,
    image,
    files,
    configHash: hashFiles(files),
    secrets: collectSecretNames(app),
    hosts: selectHosts(app, project.hosts),
  };
}
