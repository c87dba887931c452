// Load → validate → render → resolve secrets for one app: the common start of every use case.
import { resolve } from 'node:path';
import type { App, Project } from '../config/schema.ts';
import { loadProject, pathExists } from '../config/load.ts';
import { buildFileIssues } from '../config/rules.ts';
import { resolveSecrets } from '../config/secrets.ts';
import { assertRelease } from '../config/release.ts';
import { ConfigError, StepError } from '../errors.ts';
import { renderApp } from '../plan/render-app.ts';
import { applyWrite, chooseRelease, readComposeDir } from './plan.ts';
import { planWrite } from '../plan/plan-write.ts';
import type { AppRender } from '../plan/types.ts';
import type { Deps } from './deps.ts';

export interface AppContext {
  project: Project;
  app: App;
  render: AppRender;
  secrets: Record<string, string>;
}

export function findApp(project: Project, name: string): App {
  const app = project.apps.find((a) => a.name === name);
  if (!app) {
    const known = project.apps.map((a) => a.name).join(', ') || 'none';
    throw new ConfigError([{ file: `apps/${name}/`, path: '', expected: `an app folder apps/${name}/ with app.yml`, found: `no such app (apps: ${known})`, hint: `create apps/${name}/app.yml` }]);
  }
  return app;
}

export async function loadAppContext(deps: Deps, name: string, explicitRelease?: string): Promise<AppContext> {
  const end = deps.log.step('validate + render');
  const project = await loadProject(deps.root);
  const app = findApp(project, name);
  const missing = buildFileIssues(app, pathExists);
  if (missing.length) throw new ConfigError(missing);
  const { release, source } = await chooseRelease(app, explicitRelease, deps.gitCommit);
  assertRelease(release, app, source); // before anything is written, here or on a host
  const render = renderApp(project, app, { release });
  // compose/<app>/ becomes exactly this render (what is uploaded); say what changed since the last plan.
  const files = planWrite(project, { apps: [render] }, await readComposeDir(deps.root));
  await applyWrite(deps.root, files);
  const changed = files.filter((f) => f.status !== 'unchanged');
  deps.log.info(changed.length ? `plan: ${changed.map((f) => `${f.status} ${f.path}`).join(', ')}` : 'plan: compose files unchanged since the last plan');
  const secrets = await resolveSecrets(render.secrets, app, deps.env, async (cmd: string) => {
    const r = await deps.shell(cmd, {}, appSourceDir(app));
    if (r.exitCode !== 0) throw new StepError('secrets', `secret command "${cmd}" failed (exit ${r.exitCode})`);
    return r.stdout.trim();
  });
  deps.log.addSecrets(Object.values(secrets));
  end();
  return { project, app, render, secrets };
}

/**
 * Where hooks and secret commands run: the app's own source tree (its build context), as Kamal runs
 * them in the app's repository, so `cat config/master.key` and `bin/rails test` mean what they say;
 * the app folder when the image is not built here.
 */
export function appSourceDir(app: App): string {
  return app.config.build ? resolve(app.dir, app.config.build.context) : app.dir;
}

export type HookName = 'pre_build' | 'pre_deploy' | 'post_deploy';

/** Hooks run on the operator machine with BERTH_* variables; a failing hook stops the deploy. */
export async function runHook(deps: Deps, app: App, hook: HookName, env: Record<string, string>) {
  const command = app.config.hooks[hook];
  if (!command) return;
  const end = deps.log.step(`hook ${hook}`);
  const res = await deps.shell(command, { BERTH_APP: app.name, BERTH_HOOK: hook, BERTH_ROOT: deps.root, ...env }, appSourceDir(app));
  end();
  if (res.exitCode !== 0) throw new StepError(`hook ${hook}`, `hook ${hook} ("${command}") failed with exit ${res.exitCode}\n${(res.stdout + res.stderr).trim().slice(-2000)}`);
  if (res.stdout.trim()) deps.log.info(res.stdout.trim());
}
