// `npm run plan`: load + validate → render → compare with compose/ → write compose/ → report.
// Never touches a server. Secret values are only looked up to say whether they are available
// and to register them for redaction; they are never rendered or printed.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { App, Project } from '../config/schema.ts';
import { loadProject } from '../config/load.ts';
import { secretEnvName } from '../config/secrets.ts';
import { assertRelease } from '../config/release.ts';
import { formatIssue, UnknownNameError } from '../errors.ts';
import { COMPOSE_DIR, imageTag } from '../plan/app-facts.ts';
import { planWrite, type PlannedFile } from '../plan/plan-write.ts';
import { buildReport, formatReport, type PlanReport, type ReleaseSource, type SecretSource, summariseApp } from '../plan/plan-summary.ts';
import { renderApp } from '../plan/render-app.ts';
import { renderEdge } from '../plan/render-edge.ts';
import { chooseReleaseTag } from '../plan/release-id.ts';
import type { AppRender } from '../plan/types.ts';

export interface PlanLog {
  output(text: string): void;
  addSecrets(values: string[]): void;
}

export interface PlanDeps {
  root: string;
  env: Readonly<Record<string, string | undefined>>;
  log: PlanLog;
}

export interface PlanOptions {
  /** Apps to plan; all apps when empty. */
  apps?: string[];
  release?: string;
  json?: boolean;
  /** Compare only: do not write compose/. */
  check?: boolean;
}

export interface PlanResult {
  report: PlanReport;
  files: PlannedFile[];
  renders: AppRender[];
}

/**
 * The release `plan` renders (offline, never from git): --release, else the tag written in the
 * image, else `build-context` for an image Berth builds (deploy puts the build context's commit
 * there in the files it uploads), else `latest`. So compose/ changes only when the config does.
 */
export function chooseRelease(app: App, explicit: string | undefined): { release: string; source: ReleaseSource } {
  const { tag, source } = chooseReleaseTag({ explicit, imageTag: imageTag(app.config.image), builds: !!app.config.build });
  return { release: tag, source };
}

function selectApps(project: Project, names: readonly string[]): App[] {
  if (!names.length) return project.apps;
  const known = project.apps.map((a) => a.name);
  const issues = names
    .filter((n) => !known.includes(n))
    .map((n) => ({ file: `apps/${n}/`, path: '', expected: `an app (apps: ${known.join(', ') || 'none'})`, found: JSON.stringify(n), hint: `create apps/${n}/app.yml` }));
  if (issues.length) throw new UnknownNameError(issues.map(formatIssue).join('\n'));
  return names.map((n) => project.apps.find((a) => a.name === n)!);
}

/** Every file under compose/ (two levels: compose/<dir>/<file>), path relative to the root → content. */
export async function readComposeDir(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    let entries;
    try {
      entries = await readdir(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out[p] = await readFile(join(root, p), 'utf8');
    }
  };
  await walk(COMPOSE_DIR);
  return out;
}

export async function applyWrite(root: string, files: readonly PlannedFile[]): Promise<void> {
  for (const f of files) {
    const abs = join(root, f.path);
    if (f.status === 'added' || f.status === 'changed') {
      await mkdir(dirname(abs), { recursive: true });
      await writeFile(abs, f.content!);
    } else if (f.status === 'removed') {
      await rm(abs, { force: true });
    }
  }
}

export async function plan(deps: PlanDeps, opts: PlanOptions = {}): Promise<PlanResult> {
  const project = await loadProject(deps.root, { env: deps.env as NodeJS.ProcessEnv });
  const apps = selectApps(project, opts.apps ?? []);

  const secretSource = (commands: Record<string, string>) => (name: string): SecretSource => {
    const value = deps.env[secretEnvName(name)] || deps.env[name];
    if (value) {
      deps.log.addSecrets([value]);
      return 'env';
    }
    return commands[name] ? 'command' : 'missing';
  };

  const renders: AppRender[] = [];
  const summaries = [];
  for (const app of apps) {
    const { release, source } = chooseRelease(app, opts.release);
    assertRelease(release, app, source);
    const render = renderApp(project, app, { release });
    renders.push(render);
    summaries.push(summariseApp(app, render, source, secretSource(app.config.secret_commands)));
  }
  const edge = renderEdge(project);
  const files = planWrite(project, { edge, apps: renders }, await readComposeDir(deps.root));
  const report = buildReport(summaries, { render: edge, secretSource: secretSource({}) }, files);
  if (!opts.check) await applyWrite(deps.root, files);

  deps.log.output(opts.json ? JSON.stringify(report, null, 2) : formatReport(report, { wrote: !opts.check }));
  return { report, files, renders };
}
