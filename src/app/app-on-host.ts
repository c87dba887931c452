// An app as it sits on one host: its compose target (project, files, secret env) and the one
// round trip that observes it. Every command (deploy, rollback, start, backup, ops) uses these;
// they live apart from deploy.ts so those commands never import the deploy pipeline.
import { join } from 'node:path';
import type { ComposeTarget } from '../docker/argv.ts';
import { hostScripts, observeAppPart, type ScriptPart } from '../exec/host-scripts.ts';
import { type AppState, parseObservation } from '../exec/state.ts';
import { appDir, appProject, appSecretSetDir, dynamicConfigFile } from '../names.ts';
import type { Deps } from './deps.ts';
import type { HostHandle } from './host.ts';
import { retrying, SSH_CONNECT } from './retry.ts';

/** The observation script part (state, containers, route; the image and secret set when named). */
export const appObservation = (app: string, image?: string, secretSet?: string): ScriptPart =>
  observeAppPart(appDir(app), app, { route: dynamicConfigFile(app), image, ...(secretSet ? { secretSet: appSecretSetDir(app, secretSet) } : {}) });

export async function observeApp(deps: Deps, h: HostHandle, app: string, image?: string, secretSet?: string): Promise<AppState> {
  // The first round trip to the host opens its SSH connection: retried when the connection fails.
  const part = appObservation(app, image, secretSet);
  const cmd = hostScripts.run(h.ssh, part.script, part.args, false);
  const out = await retrying(deps.log, `${h.name}: connect`, SSH_CONNECT, () => deps.runner.run(cmd));
  return parseObservation(out.stdout);
}

export function composeTarget(deps: Deps, h: HostHandle, app: string, secrets: Record<string, string>, dir?: string): ComposeTarget {
  return { context: h.context, project: appProject(app), files: [join(dir ?? join(deps.root, 'compose', app), 'compose.yml')], env: secrets };
}
