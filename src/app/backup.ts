// Data safety use cases: backup:status (every database of every app, one SSH round trip per
// host), backup:verify (restore the latest replica into a throwaway container, check and compare,
// record the result on the host) and backup:restore (SQLite from Litestream, or a pg_dump file
// of a PostgreSQL accessory), each behind the app's deploy lock.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { loadProject } from '../config/load.ts';
import type { App, Project } from '../config/schema.ts';
import { compose } from '../docker/argv.ts';
import { StepError } from '../errors.ts';
import { backupScripts } from '../exec/backup-scripts.ts';
import { startColour } from '../exec/cutover.ts';
import { hostScripts } from '../exec/host-scripts.ts';
import { acquireLock } from '../exec/lock.ts';
import {
  appProject,
  backupService,
  dumpDir,
  LITESTREAM_SERVICE,
  lockDir,
  NETWORK,
  safetyCopiesDir,
  verifyRecordFile,
} from '../names.ts';
import { backupScript } from '../plan/backup-script.ts';
import { type DbStatus, type DumpStatus, evaluateAppBackups, parseBackupObservation, parseSections, parseVerifyOutput, type VerifyRecord } from '../plan/backup-status.ts';
import { routingFile } from '../plan/types.ts';
import { findApp } from './app-context.ts';
import { composeTarget, observeApp } from './deploy.ts';
import type { Deps } from './deps.ts';
import { fetchRelease } from './release-files.ts';
import { ensureContext, type HostHandle, hostHandle } from './host.ts';
import { hostsOf } from './ops.ts';

const hasBackups = (app: App) => !!app.config.litestream || Object.values(app.config.accessories).some((a) => a.backup);

/** UTC stamp for directory names: 20261123T094000Z. */
export const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

// ---------------------------------------------------------------- status

export interface BackupStatusResult {
  databases: DbStatus[];
  dumps: DumpStatus[];
  /** Host clock (ms) the evaluation used. */
  now: number;
  ok: boolean;
}

export async function backupStatus(deps: Deps, opts: { app?: string }): Promise<BackupStatusResult> {
  const project = await loadProject(deps.root);
  const apps = (opts.app ? [findApp(project, opts.app)] : project.apps).filter(hasBackups);
  if (opts.app && !apps.length) throw new StepError('backup:status', `${opts.app} declares neither litestream nor an accessory backup`);
  const byHost = new Map<string, App[]>();
  for (const app of apps) for (const hn of hostsOf(project, app)) byHost.set(hn, [...(byHost.get(hn) ?? []), app]);
  const databases: DbStatus[] = [];
  const dumps: DumpStatus[] = [];
  let now = deps.now().getTime();
  for (const [hn, hostApps] of [...byHost].sort(([a], [b]) => a.localeCompare(b))) {
    const h = hostHandle(hn, project.hosts[hn]!);
    let text = '';
    try {
      await ensureContext(deps.runner, h);
      text = (await deps.runner.run(backupScripts.observe(h.ssh, hostApps.map(observeSpec)))).stdout;
    } catch (e) {
      deps.log.warn(`${hn}: unreachable: ${(e as Error).message.split('\n')[0]}`);
    }
    const obs = parseBackupObservation(text);
    const hostNow = Number.isFinite(obs.now) ? obs.now : Math.round(now / 1000);
    now = hostNow * 1000;
    for (const app of hostApps) {
      const r = evaluateAppBackups(app, hn, obs.apps.get(app.name), hostNow);
      if (!text) for (const d of [...r.dbs, ...r.dumps]) d.problems.unshift('host unreachable');
      databases.push(...r.dbs);
      dumps.push(...r.dumps);
    }
  }
  return { databases, dumps, now, ok: [...databases, ...dumps].every((d) => d.ok && d.problems.length === 0) };
}

const observeSpec = (app: App) => ({
  app: app.name,
  project: appProject(app.name),
  verifyFile: verifyRecordFile(app.name),
  dbs: app.config.litestream?.databases ?? [],
  accessories: Object.entries(app.config.accessories)
    .filter(([, a]) => a.backup)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, a]) => ({ name, dir: dumpDir(app.name, name, a.backup!.dir) })),
});

// ---------------------------------------------------------------- verify

export async function backupVerify(deps: Deps, opts: { app: string }): Promise<VerifyRecord[]> {
  const project = await loadProject(deps.root);
  const app = findApp(project, opts.app);
  const ls = app.config.litestream;
  if (!ls) throw new StepError('backup:verify', `${app.name} has no litestream section: nothing to verify (pg_dump files are listed by backup:status)`);
  const out: VerifyRecord[] = [];
  for (const hn of hostsOf(project, app)) {
    const h = hostHandle(hn, project.hosts[hn]!);
    await ensureContext(deps.runner, h);
    const end = deps.log.step(`${hn}: verify ${ls.databases.length} database(s)`);
    const at = deps.now().toISOString();
    const res = await deps.runner.run(backupScripts.verify(h.ssh, appProject(app.name), ls.image, NETWORK, ls.databases), { allowFailure: true });
    const record = parseVerifyOutput(res.stdout, app.name, hn, at);
    if (res.exitCode !== 0 && record.ok) Object.assign(record, { ok: false, error: `verify script exited ${res.exitCode}: ${res.stderr.trim().slice(-300)}` });
    end(record.ok ? 'ok' : 'FAILED');
    await deps.runner.run(hostScripts.writeFile(h.ssh, verifyRecordFile(app.name), JSON.stringify(record) + '\n', '644'));
    for (const d of record.databases) deps.log.info(`${hn}: ${d.path}: ${d.ok ? 'ok' : 'FAILED'} — ${d.ok ? d.comparison : d.error}`);
    if (record.error) deps.log.error(`${hn}: ${record.error}`);
    out.push(record);
  }
  return out;
}

// ---------------------------------------------------------------- restore

export interface RestoreOptions {
  app: string;
  /** Point in time (anything Date parses); latest when absent. */
  at?: string;
  /** Restore only this database (container path). */
  db?: string;
  /** Restore a PostgreSQL accessory instead. */
  accessory?: string;
  /** pg_dump file name (default: the newest). */
  dump?: string;
}

export interface RestoreOutcome {
  host: string;
  kind: 'sqlite' | 'postgres';
  restored: string[];
  safetyCopy?: string;
  at?: string;
  colour?: string;
  timings: Record<string, number>;
}

/** The live release's rendered files and secret values, as a compose target (like rollback). */
async function liveReleaseTarget(deps: Deps, h: HostHandle, app: App, release: string, dir: string) {
  const secrets = await fetchRelease(deps, h, app.name, release, dir);
  return composeTarget(deps, h, app.name, secrets, dir);
}

function chooseRestoreKind(app: App, opts: RestoreOptions): { kind: 'sqlite'; dbs: string[] } | { kind: 'postgres'; accessory: string } {
  const c = app.config;
  if (opts.accessory || opts.dump) {
    const backed = Object.keys(c.accessories).filter((a) => c.accessories[a]!.backup);
    const accessory = opts.accessory ?? (backed.length === 1 ? backed[0]! : '');
    if (!accessory || !c.accessories[accessory]?.backup) {
      throw new StepError('backup:restore', `${app.name}: choose an accessory with a backup section (--accessory ${backed.join('|') || '<none declared>'})`);
    }
    return { kind: 'postgres', accessory };
  }
  if (!c.litestream) {
    const backed = Object.keys(c.accessories).filter((a) => c.accessories[a]!.backup);
    if (backed.length === 1) return { kind: 'postgres', accessory: backed[0]! };
    throw new StepError('backup:restore', `${app.name} has no litestream section${backed.length ? `; restore an accessory with --accessory ${backed.join('|')}` : ''}`);
  }
  if (opts.db && !c.litestream.databases.includes(opts.db)) {
    throw new StepError('backup:restore', `${opts.db} is not a replicated database of ${app.name} (${c.litestream.databases.join(', ')})`);
  }
  return { kind: 'sqlite', dbs: opts.db ? [opts.db] : c.litestream.databases };
}

export function parseAt(at: string | undefined, now: Date): string | undefined {
  if (!at) return undefined;
  const t = Date.parse(at);
  if (!Number.isFinite(t)) throw new StepError('backup:restore', `--at ${at}: not a time (use ISO 8601, e.g. 2026-11-23T09:40:00Z)`);
  if (t > now.getTime()) throw new StepError('backup:restore', `--at ${at} is in the future`);
  return new Date(t).toISOString();
}

export async function backupRestore(deps: Deps, opts: RestoreOptions): Promise<RestoreOutcome[]> {
  const project = await loadProject(deps.root);
  const app = findApp(project, opts.app);
  const what = chooseRestoreKind(app, opts);
  const at = parseAt(opts.at, deps.now());
  if (at && what.kind === 'postgres') throw new StepError('backup:restore', '--at applies to Litestream databases; choose a dump with --dump');
  const outcomes: RestoreOutcome[] = [];
  for (const hn of hostsOf(project, app)) outcomes.push(await restoreOnHost(deps, project, app, hn, what, at, opts.dump));
  return outcomes;
}

async function restoreOnHost(
  deps: Deps, project: Project, app: App, hn: string,
  what: ReturnType<typeof chooseRestoreKind>, at: string | undefined, dump: string | undefined,
): Promise<RestoreOutcome> {
  const h = hostHandle(hn, project.hosts[hn]!);
  const timings: Record<string, number> = {};
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const end = deps.log.step(`${hn}: ${name}`);
    try {
      return await fn();
    } finally {
      timings[name] = end();
    }
  };
  const state = await phase('observe', async () => {
    await ensureContext(deps.runner, h);
    return observeApp(deps, h, app.name);
  });
  if (!state.current) throw new StepError('backup:restore', `${app.name} is not deployed on ${hn}`);
  const current = state.current;
  const lock = await phase('lock', () => acquireLock(deps.runner, h.ssh, lockDir(app.name), `backup:restore ${app.name}`, { host: hn, app: app.name, now: deps.now() }));
  const dir = await mkdtemp(join(tmpdir(), 'berth-restore-'));
  try {
    const target = await phase('release files', () => liveReleaseTarget(deps, h, app, current.release, dir));
    const project_ = appProject(app.name);
    const outcome: RestoreOutcome = { host: hn, kind: what.kind, restored: [], timings, colour: current.colour, ...(at ? { at } : {}) };
    if (what.kind === 'sqlite') {
      const ls = app.config.litestream!;
      const safety = `${safetyCopiesDir(app.name)}/${stamp(deps.now())}`;
      const res = await phase('stop writers + restore', () =>
        deps.runner.run(backupScripts.restore(h.ssh, project_, ls.image, NETWORK, safety, at, what.dbs), { allowFailure: true }),
      );
      const sections = parseSections(res.stdout);
      outcome.restored = sections.filter((s) => s.name === 'swapped').map((s) => s.arg.split(' ')[0]!);
      outcome.safetyCopy = safety;
      if (res.exitCode !== 0 || !sections.some((s) => s.name === 'end' && s.arg === 'ok')) {
        const failed = sections.find((s) => s.name === 'failed' || s.name === 'error');
        deps.log.error(`${hn}: restore failed; the live databases were left as they were (safety copy in ${safety}); starting the app again`);
        await phase('start app', () => startApp(deps, h, app, target, current.colour, dir));
        throw new StepError('backup:restore', `${hn}: ${failed ? `${failed.name} ${failed.arg}\n${failed.lines.join('\n').trim()}` : (res.stdout + res.stderr).trim().slice(-1500)}`);
      }
      deps.log.info(`${hn}: restored ${outcome.restored.join(', ')}${at ? ` as of ${at}` : ' (latest)'}; safety copy in ${safety}`);
    } else {
      const acc = what.accessory;
      const name = dump ?? (await newestDump(deps, h, app, acc));
      await phase('stop writers', () => deps.runner.run(backupScripts.stopWriters(h.ssh, project_)));
      const res = await phase(`restore ${acc}`, () =>
        deps.runner.run(backupScripts.backupExec(h.ssh, project_, backupService(acc), backupScript(), ['restore', name]), { allowFailure: true }),
      );
      if (res.exitCode !== 0) {
        await phase('start app', () => startApp(deps, h, app, target, current.colour, dir));
        throw new StepError('backup:restore', `${hn}: psql restore of ${name} failed (exit ${res.exitCode}); the app was started again.\n${(res.stdout + res.stderr).trim().slice(-1500)}`);
      }
      outcome.restored = [`${acc}:${name}`];
      deps.log.info(`${hn}: ${acc} restored from ${name}`);
    }
    await phase('start app', () => startApp(deps, h, app, target, current.colour, dir));
    return outcome;
  } finally {
    await lock.release();
    await rm(dir, { recursive: true, force: true });
  }
}

async function newestDump(deps: Deps, h: HostHandle, app: App, acc: string): Promise<string> {
  const dir = dumpDir(app.name, acc, app.config.accessories[acc]?.backup?.dir);
  const res = await deps.runner.run(
    hostScripts.run(h.ssh, 'ls -1 "$1" 2>/dev/null | grep -E "^$2-[0-9]{8}T[0-9]{6}Z[.]sql[.]gz$" | sort | tail -n 1', [dir, acc], false),
  );
  const name = res.stdout.trim();
  if (!name) throw new StepError('backup:restore', `${h.name}: no dump of ${acc} in ${dir}`);
  return name;
}

/** Live colour behind the usual health gate, then workers and the replicator. */
async function startApp(deps: Deps, h: HostHandle, app: App, target: ReturnType<typeof composeTarget>, colour: 'blue' | 'green', dir: string) {
  const routing = await readFile(join(dir, routingFile(colour)), 'utf8').catch(() => '');
  await startColour({
    runner: deps.runner, ssh: h.ssh, host: h.name, app: app.name, target, colour, port: app.config.port, routing,
    healthTimeoutSeconds: app.config.deploy.health_timeout_seconds,
  });
  const services = Object.keys((YAML.parse(await readFile(join(dir, 'compose.yml'), 'utf8')) as { services: Record<string, unknown> }).services);
  const rest = services.filter((s) => s.startsWith('worker-') || s === LITESTREAM_SERVICE);
  if (rest.length) await deps.runner.run(compose.up(target, rest));
}
