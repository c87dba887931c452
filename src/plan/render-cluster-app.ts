// Everything one release of a cluster app consists of (PURE): stack.yml (+ stack.release.yml when
// it has a release command), litestream.yml, and the two routing files the edge switches between.
// `hosts` are the cluster's managers: the edge nodes that hold the routes and certificates.
import type { App, Project } from '../config/schema.ts';
import { collectSecretNames } from '../config/secrets.ts';
import { StepError } from '../errors.ts';
import { COLOURS } from '../names.ts';
import { appImage } from './app-facts.ts';
import { hashFiles, sha256, stableStringify } from './hash.ts';
import { renderClusterRouting } from './render-cluster-routing.ts';
import { renderLitestream } from './render-litestream.ts';
import { renderReleaseStack, renderStack, RELEASE_STACK_FILE, STACK_FILE, type StackInput } from './render-stack.ts';
import { type AppRender, type RenderedFile, routingFile } from './types.ts';

export interface ClusterRenderOptions {
  release: string;
  /** Concrete files for a deploy (Swarm secret names, the image's entrypoint/command, a pinned digest). */
  secretsVersion?: string;
  imageExec?: Record<string, string>;
  image?: string;
  releaseId?: string;
}

export function stackInput(project: Project, app: App, opts: ClusterRenderOptions): StackInput {
  const name = app.config.cluster!;
  const config = project.clusters?.[name];
  if (!config) throw new StepError('cluster', `${app.file}: cluster "${name}" is not in hosts.json`);
  const image = opts.image ?? appImage(app.config, opts.release);
  const litestream = app.config.litestream ? renderLitestream(app) : undefined;
  return {
    app, release: opts.release, image, configHash: sha256(stableStringify(app.config)).slice(0, 16),
    litestreamHash: litestream ? sha256(litestream).slice(0, 16) : undefined,
    cluster: { name, config }, secretsVersion: opts.secretsVersion, imageExec: opts.imageExec, releaseId: opts.releaseId,
  };
}

export function renderClusterApp(project: Project, app: App, opts: ClusterRenderOptions): AppRender {
  const input = stackInput(project, app, opts);
  const files: RenderedFile[] = [{ path: STACK_FILE, content: renderStack(input) }];
  const job = renderReleaseStack(input);
  if (job) files.push({ path: RELEASE_STACK_FILE, content: job });
  if (app.config.litestream) files.push({ path: 'litestream.yml', content: renderLitestream(app) });
  for (const colour of COLOURS) files.push({ path: routingFile(colour), content: renderClusterRouting(app, colour) });
  return {
    app: app.name, release: opts.release, image: input.image, files, configHash: hashFiles(files),
    secrets: collectSecretNames(app), hosts: [...input.cluster.config.managers],
  };
}
