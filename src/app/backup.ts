// Data safety use cases: backup:status (every database of every app, one SSH round trip per
// host), backup:verify (restore the latest replica into a throwaway container, check and compare,
// record the result on the host) and backup:restore (SQLite from Litestream, or a pg_dump file
// of a PostgreSQL accessory), each behind the app's deploy lock. A restore runs as a job on the
// host (src/exec/restore-job.ts): the operator's process only starts and follows it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { compose } from '../docker/argv.ts';
import { startColour } from '../exec/cutover.ts';
import { routingFile } from '../plan/types.ts';
import { composeEnvOf, fetchRelease } from './release-files.ts';
import { loadProject } from '../config/load.ts';
import type { App, Project } from '../config/schema.ts';
import { StepError } from '../errors.ts';
import { backupScripts } from '../exec/backup-scripts.ts';
import { hostScripts } from '../exec/host-scripts.ts';
import { RESTORE_JOURNAL_EXISTS, restoreJob, type RestoreJobArgs } from '../exec/restore-job.ts';
import { restoreNote } from '../plan/restore-journal.ts';
import { acquireLock } from '../exec/lock.ts';
import { audited } from './audit.ts';
import {
  appProject,
  backupService,
  dumpDir,
  LITESTREAM_SERVICE,
  lockDir,
  NETWORK,
  restoreJournalDir,
  safetyCopiesDir,
  verifyRecordFile,
} from '../names.ts';
import { backupScript } from '../plan/backup-script.ts';
import { type DbStatus, type DumpStatus, evaluateAppBackups, parseBackupObservation, parseSections, parseVerifyOutput, type VerifyRecord } from '../plan/backup-status.ts';
import { findApp } from './app-context.ts';
import { composeTarget, observeApp } from './app-on-host.ts';
import type { Deps } from './deps.ts';
import { ensureContext, type HostHandle, hostHandle } from './host.ts';
import { hostsOf } from './ops.ts';
import { placeApp, type Placement, remoteUsers } from '../plan/placement.ts';
import { byText } from '../text-order.ts';

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
  // Each host is asked only about what runs there: the replicator where the app's image runs, a
  // pg_dump loop where its accessory does.
  const byHost = new Map<string, App[]>();
  for (const app of apps) {
    for (const hn of hostsOf(project, app)) {
      const part = backupsOnHost(app, placeApp(app, project.hosts), hn);
      if (part) byHost.set(hn, [...(byHost.get(hn) ?? []), part]);
    }
  }
  const databases: DbStatus[] = [];
  const dumps: DumpStatus[] = [];
  let now = deps.now().getTime();
  for (const [hn, hostApps] of [...byHost].sort(([a], [b]) => byText(a, b))) {
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

/** The app as one host holds its backups: Litestream where its image runs, the accessories placed there (undefined: none). */
export function backupsOnHost(app: App, p: Placement, host: string): App | undefined {
  const on = p.on[host];
  if (!on) return undefined;
  const accessories = Object.fromEntries(Object.entries(app.config.accessories).filter(([a]) => on.accessories.includes(a)));
  const litestream = on.image ? app.config.litestream : undefined;
  const part = { ...app, config: { ...app.config, accessories, litestream } };
  return hasBackups(part) ? part : undefined;
}

const observeSpec = (app: App) => ({
  app: app.name,
  project: appProject(app.name),
  verifyFile: verifyRecordFile(app.name),
  dbs: app.config.litestream?.databases ?? [],
  accessories: Object.entries(app.config.accessories)
    .filter(([, a]) => a.backup)
    .sort(([a], [b]) => byText(a, b))
    .map(([name, a]) => ({ name, dir: dumpDir(app.name, name, a.backup!.dir) })),
});

// ---------------------------------------------------------------- verify

export async function backupVerify(deps: Deps, opts: { app: string }): Promise<VerifyRecord[]> {
  const project = await loadProject(deps.root);
  const app = findApp(project, opts.app);
  const ls = app.config.litestream;
  if (!ls) throw new StepError('backup:verify', `${app.name} has no litestream section: nothing to verify (pg_dump files are listed by backup:status)`);
  const out: VerifyRecord[] = [];
  for (const hn of placeApp(app, project.hosts).imageHosts) {
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
  if (app.config.cluster) {
    throw new StepError('backup:restore', `${app.name} runs on cluster ${app.config.cluster}: restoring in place is not available on the Swarm engine yet (Swarm would restart the writers it stops). Nothing was changed; restore on its node by hand from the replica (litestream restore), or run the app per host for the restore`);
  }
  const what = chooseRestoreKind(app, opts);
  const at = parseAt(opts.at, deps.now());
  if (at && what.kind === 'postgres') throw new StepError('backup:restore', '--at applies to Litestream databases; choose a dump with --dump');
  const outcomes: RestoreOutcome[] = [];
  const detail = `${what.kind}${at ? ` as of ${at}` : ''}${opts.dump ? ` from ${opts.dump}` : ''}`;
  const placement = placeApp(app, project.hosts);
  // A database other hosts write to: stop the writers there, restore on its host, start them again.
  if (what.kind === 'postgres' && remoteUsers(placement, what.accessory).length) {
    const hn = placement.accessories[what.accessory]![0]!;
    return [await audited(deps, hostHandle(hn, project.hosts[hn]!), app.name, 'restore', [], { detail }, () => restoreSharedAccessory(deps, project, app, placement, what.accessory, opts.dump))];
  }
  for (const hn of what.kind === 'postgres' ? placement.accessories[what.accessory]! : placement.imageHosts) {
    outcomes.push(await audited(deps, hostHandle(hn, project.hosts[hn]!), app.name, 'restore', [], { detail }, () => restoreOnHost(deps, project, app, hn, what, at, opts.dump)));
  }
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
  const journal = restoreJournalDir(app.name);
  // A restore whose job still runs on the host is followed to its end; one cut off is finished
  // (its completed steps skipped) before anything else.
  const cut = state.restore;
  if (cut?.alive) {
    deps.log.warn(`${hn}: ${restoreNote(app.name, cut)}; following it`);
    const res = await phase('follow restore', () => deps.runner.run(hostScripts.run(h.ssh, FOLLOW_RESTORE, [journal], false), { allowFailure: true }));
    return restoreOutcome(deps, hn, parseJobArgs(cut.params, hn), res.stdout, timings);
  }
  let args: RestoreJobArgs;
  if (cut) {
    args = parseJobArgs(cut.params, hn);
    deps.log.warn(`${hn}: ${restoreNote(app.name, cut).split(':')[0]}: finishing it first (${args.kind}${args.kind === 'sqlite' && args.rest[3] ? ` as of ${args.rest[3]}` : ''}); rerun backup:restore afterwards if you asked for another restore`);
  } else {
    if (!state.current) throw new StepError('backup:restore', `${app.name} is not deployed on ${hn}`);
    const common = { journal, lock: lockDir(app.name), app: app.name, project: appProject(app.name), colour: state.current.colour ?? '', healthTimeoutSeconds: app.config.deploy.health_timeout_seconds };
    if (what.kind === 'sqlite') {
      const safety = `${safetyCopiesDir(app.name)}/${stamp(deps.now())}`;
      args = { ...common, kind: 'sqlite', rest: [app.config.litestream!.image, NETWORK, safety, at ?? '', ...what.dbs] };
    } else {
      const name = dump ?? (await newestDump(deps, h, app, what.accessory));
      args = { ...common, kind: 'postgres', rest: [backupService(what.accessory), backupScript(), name] };
    }
  }
  // The job takes the lock over from this process as it starts, and releases it when it ends.
  const lock = await phase('lock', () =>
    acquireLock(deps.runner, h.ssh, lockDir(app.name), `backup:restore ${app.name}`, {
      host: hn, app: app.name, now: deps.now(),
      holderGone: (holder) => (cut && !cut.alive && holder.command?.endsWith('(host job)') ? 'the restore job it names is no longer running on the host' : undefined),
    }),
  );
  try {
    const res = await phase(cut ? 'finish restore' : 'restore', () => deps.runner.run(restoreJob(h.ssh, !!cut, args, JSON.stringify(args)), { allowFailure: true }));
    if (res.exitCode === RESTORE_JOURNAL_EXISTS) throw new StepError('backup:restore', `${hn}: ${res.stdout.trim().replace(/^--error /, '')}; rerun backup:restore`);
    return restoreOutcome(deps, hn, args, res.stdout, timings);
  } finally {
    await lock.release();
  }
}

/** Follow a running restore job's output until it ends (its journal moves to restore.last then). */
const FOLLOW_RESTORE = `
p=$(cat "$1/pid" 2>/dev/null)
if [ -n "$p" ] && [ -f "$1/log" ]; then tail -n +1 -f --pid="$p" "$1/log"; else cat "$1.last/log" 2>/dev/null; fi
`;

function parseJobArgs(params: string, hn: string): RestoreJobArgs {
  try {
    const a = JSON.parse(params) as RestoreJobArgs;
    if ((a.kind === 'sqlite' || a.kind === 'postgres') && Array.isArray(a.rest)) return a;
  } catch {
    /* below */
  }
  throw new StepError('backup:restore', `${hn}: a restore journal is on the host but its parameters cannot be read (params.json); look at it, move it away and rerun backup:restore`);
}

/** The job's output → what was restored, or the error saying what it left (the app is started again either way). */
function restoreOutcome(deps: Deps, hn: string, args: RestoreJobArgs, stdout: string, timings: Record<string, number>): RestoreOutcome {
  const sections = parseSections(stdout);
  const result = sections.filter((s) => s.name === 'result').pop()?.arg;
  const safety = args.kind === 'sqlite' ? args.rest[2] : undefined;
  const outcome: RestoreOutcome = {
    host: hn, kind: args.kind, timings, colour: args.colour,
    restored: sections.filter((s) => s.name === (args.kind === 'sqlite' ? 'swapped' : 'restored')).map((s) => s.arg.split(' ')[0]!),
    ...(safety ? { safetyCopy: safety } : {}),
    ...(args.kind === 'sqlite' && args.rest[3] ? { at: args.rest[3] } : {}),
  };
  if (result === 'ok') {
    deps.log.info(`${hn}: restored ${outcome.restored.join(', ')}${safety ? `; safety copy in ${safety}` : ''}; the app runs again`);
    return outcome;
  }
  const steps = sections.filter((s) => s.name === 'stage').map((s) => s.arg);
  if (!result) {
    throw new StepError('backup:restore', `${hn}: the restore stopped before it ended (last step done: ${steps.pop() ?? 'none'}); nothing is lost${safety ? ` (safety copy in ${safety})` : ''}: run backup:restore again to finish it`);
  }
  const why = sections.find((s) => s.name === 'failed' || s.name === 'error' || s.name === 'unhealthy');
  const swapped = steps.includes('swapped') || (args.kind === 'postgres' && steps.includes('restored'));
  throw new StepError(
    'backup:restore',
    `${hn}: restore failed${why ? `: ${why.name} ${why.arg}\n${why.lines.join('\n').trim()}` : ''}\n` +
      (swapped ? 'The databases were restored, but the app did not come back healthy' : 'The live databases were left as they were') +
      `${safety ? ` (safety copy in ${safety})` : ''}; the app, its workers${args.kind === 'sqlite' ? ' and the replicator' : ''} were started again.`,
  );
}

/**
 * pg_dump restore of an accessory the app's processes on other hosts write to: under the lock on
 * every host involved, stop the web colours and workers wherever they run, restore on the
 * accessory's host, then start each host's live release again (behind the health gate).
 */
async function restoreSharedAccessory(deps: Deps, project: Project, app: App, p: Placement, acc: string, dump: string | undefined): Promise<RestoreOutcome> {
  const dbHost = p.accessories[acc]![0]!;
  const writers = p.imageHosts;
  const timings: Record<string, number> = {};
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const end = deps.log.step(name);
    try {
      return await fn();
    } finally {
      timings[name] = end();
    }
  };
  const involved = [...new Set([dbHost, ...writers])].sort().map((n) => hostHandle(n, project.hosts[n]!));
  const states = new Map<string, Awaited<ReturnType<typeof observeApp>>>();
  for (const h of involved) {
    await ensureContext(deps.runner, h);
    states.set(h.name, await observeApp(deps, h, app.name));
    if (!states.get(h.name)!.current) throw new StepError('backup:restore', `${app.name} is not deployed on ${h.name}`);
  }
  const locks: { release: () => Promise<unknown> }[] = [];
  const dirs: string[] = [];
  try {
    for (const h of involved) locks.push(await phase(`${h.name}: lock`, () => acquireLock(deps.runner, h.ssh, lockDir(app.name), `backup:restore ${app.name}`, { host: h.name, app: app.name, now: deps.now() })));
    const dbh = involved.find((h) => h.name === dbHost)!;
    const name = dump ?? (await newestDump(deps, dbh, app, acc));
    const targets = new Map<string, { target: ReturnType<typeof composeTarget>; dir: string }>();
    for (const h of involved.filter((x) => writers.includes(x.name))) {
      const dir = await mkdtemp(join(tmpdir(), 'berth-restore-'));
      dirs.push(dir);
      targets.set(h.name, { target: await phase(`${h.name}: release files`, () => liveReleaseTarget(deps, h, app, states.get(h.name)!.current!.release, dir)), dir });
      await phase(`${h.name}: stop writers`, () => deps.runner.run(backupScripts.stopWriters(h.ssh, appProject(app.name))));
    }
    const res = await phase(`${dbHost}: restore ${acc}`, () =>
      deps.runner.run(backupScripts.backupExec(dbh.ssh, appProject(app.name), backupService(acc), backupScript(), ['restore', name]), { allowFailure: true }),
    );
    const restart = async () => {
      for (const h of involved.filter((x) => writers.includes(x.name))) {
        const t = targets.get(h.name)!;
        const colour = states.get(h.name)!.current!.colour;
        await phase(`${h.name}: start app`, async () => {
          if (colour) return startApp(deps, h, app, t.target, colour, t.dir);
          const services = Object.keys((YAML.parse(await readFile(join(t.dir, 'compose.yml'), 'utf8')) as { services: Record<string, unknown> }).services).filter((s) => s.startsWith('worker-'));
          if (services.length) await deps.runner.run(compose.up(t.target, services));
        });
      }
    };
    if (res.exitCode !== 0) {
      await restart();
      throw new StepError('backup:restore', `${dbHost}: psql restore of ${name} failed (exit ${res.exitCode}); the app was started again on ${writers.join(', ')}.\n${(res.stdout + res.stderr).trim().slice(-1500)}`);
    }
    deps.log.info(`${dbHost}: ${acc} restored from ${name} (writers stopped on ${writers.join(', ')} meanwhile)`);
    await restart();
    return { host: dbHost, kind: 'postgres', restored: [`${acc}:${name}`], timings };
  } finally {
    for (const l of locks.reverse()) await l.release();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
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


// ---------------------------------------------------------------- restore across hosts (restoreSharedAccessory)

/** The live release's rendered files and its env (no secret value for compose), as a compose target (like rollback). */
async function liveReleaseTarget(deps: Deps, h: HostHandle, app: App, release: string, dir: string) {
  const values = await fetchRelease(deps, h, app.name, release, dir);
  return composeTarget(deps, h, app.name, composeEnvOf(values), dir);
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
