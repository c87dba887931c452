// Load → validate → render → resolve secrets for one app: the common start of every use case.
import { resolve } from 'node:path';
import type { App, Project } from '../config/schema.ts';
import { loadProject, pathExists } from '../config/load.ts';
import { buildFileIssues } from '../config/rules.ts';
import { resolveSecrets } from '../config/secrets.ts';
import { assertRelease } from '../config/release.ts';
import { ConfigError, formatIssue, StepError, UnknownNameError } from '../errors.ts';
import { renderApp } from '../plan/render-app.ts';
import { applyWrite, chooseRelease, readComposeDir } from './plan.ts';
import { planWrite } from '../plan/plan-write.ts';
import type { AppRender } from '../plan/types.ts';
import { imageTag } from '../plan/app-facts.ts';
import { chooseReleaseTag, PLAN_BUILD_TAG } from '../plan/release-id.ts';
import { sourceRevision } from './source-revision.ts';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Deps } from './deps.ts';

export interface AppContext {
  project: Project;
  app: App;
  /** What this deploy ships (for a built image: tagged with the build context's revision). */
  render: AppRender;
  /** A private local directory holding `render`'s files (uploaded, and what compose runs). */
  composeDir: string;
  /** Remove the staging dir, if any. */
  cleanup(): Promise<void>;
  secrets: Record<string, string>;
}

export function findApp(project: Project, name: string): App {
  const app = project.apps.find((a) => a.name === name);
  if (!app) {
    const known = project.apps.map((a) => a.name).join(', ') || 'none';
    throw new UnknownNameError(formatIssue({ file: `apps/${name}/`, path: '', expected: `an app folder apps/${name}/ with app.yml`, found: `no such app (apps: ${known})`, hint: `create apps/${name}/app.yml` }));
  }
  return app;
}

export async function loadAppContext(deps: Deps, name: string, explicitRelease?: string): Promise<AppContext> {
  const end = deps.log.step('validate + render');
  const project = await loadProject(deps.root);
  const app = findApp(project, name);
  const missing = buildFileIssues(app, pathExists);
  if (missing.length) throw new ConfigError(missing);
  const { release, source } = chooseRelease(app, explicitRelease);
  assertRelease(release, app, source); // before anything is written, here or on a host
  const planned = renderApp(project, app, { release });
  // compose/<app>/ becomes exactly what `plan` renders (offline, so it never goes stale by itself);
  // say what changed since the last plan.
  const files = planWrite(project, { apps: [planned] }, await readComposeDir(deps.root));
  await applyWrite(deps.root, files);
  const shipped = await deployRelease(app, explicitRelease);
  const render = shipped === release ? planned : renderApp(project, app, { release: shipped });
  if (render !== planned) deps.log.info(`release ${shipped} from the build context ${join(app.dir, app.config.build!.context)}`);
  const changed = files.filter((f) => f.status !== 'unchanged');
  deps.log.info(changed.length ? `plan: ${changed.map((f) => `${f.status} ${f.path}`).join(', ')}` : 'plan: compose files unchanged since the last plan');
  const secrets = await resolveSecrets(render.secrets, app, deps.env, async (cmd: string) => {
    const r = await deps.shell(cmd, {}, appSourceDir(app));
    if (r.exitCode !== 0) throw new StepError('secrets', `secret command "${cmd}" failed (exit ${r.exitCode})`);
    return r.stdout.trim();
  });
  deps.log.addSecrets(Object.values(secrets));
  // The shipped files go to a private directory, never compose/: there the build context's revision
  // replaces the plan's placeholder tag, and a second deploy started meanwhile (another --release)
  // rewrites compose/ without changing what this one uploads and runs.
  const composeDir = await mkdtemp(join(tmpdir(), `berth-${app.name}-`));
  const cleanup = () => rm(composeDir, { recursive: true, force: true });
  for (const f of render.files) {
    await mkdir(dirname(join(composeDir, f.path)), { recursive: true });
    await writeFile(join(composeDir, f.path), f.content);
  }
  // Placed per host: each host's release folder (its own compose.yml …) gets a directory of its own.
  if (render.placement && !render.placement.uniform) {
    for (const [h, files] of Object.entries(render.hostFiles ?? {})) {
      for (const f of files) {
        await mkdir(dirname(join(hostReleaseDir(composeDir, render, h), f.path)), { recursive: true });
        await writeFile(join(hostReleaseDir(composeDir, render, h), f.path), f.content);
      }
    }
  }
  end();
  return { project, app, render, composeDir, cleanup, secrets };
}

/** The local folder holding what `host` gets as its release (the whole render when every host gets the same). */
export const hostReleaseDir = (composeDir: string, render: AppRender, host: string) =>
  render.placement && !render.placement.uniform ? join(composeDir, 'by-host', host) : composeDir;

/**
 * The release tag a deploy ships: like plan's, except that an image Berth builds is tagged with
 * its build context's git revision (commit, plus a hash of uncommitted changes).
 */
async function deployRelease(app: App, explicit: string | undefined): Promise<string> {
  const b = app.config.build;
  const source = b && !explicit ? await sourceRevision(join(app.dir, b.context)) : undefined;
  const { tag } = chooseReleaseTag({ explicit, imageTag: imageTag(app.config.image), builds: !!b, source });
  if (tag === PLAN_BUILD_TAG) {
    throw new StepError('release', `apps/${app.name}: build.context ${join(app.dir, b!.context)} is not a git checkout with a commit, so Berth cannot tell one version of the code from another; commit it to git, or pass --release <tag>`);
  }
  return tag;
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
  if (deps.runner.dryRun) return deps.log.info(`  would run hook ${hook}: ${command}`);
  const end = deps.log.step(`hook ${hook}`);
  const res = await deps.shell(command, { BERTH_APP: app.name, BERTH_HOOK: hook, BERTH_ROOT: deps.root, ...env }, appSourceDir(app));
  end();
  if (res.exitCode !== 0) throw new StepError(`hook ${hook}`, `hook ${hook} ("${command}") failed with exit ${res.exitCode}\n${(res.stdout + res.stderr).trim().slice(-2000)}`);
  if (res.stdout.trim()) deps.log.info(res.stdout.trim());
}
