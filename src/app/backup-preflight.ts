// Deploy pre-flight for apps replicated by Litestream, run just before the release command
// (migrations): force a sync of every database and check the replica has caught up with the local
// position, then keep a restore point (a `sqlite3 .backup` copy of each database on the host, plus
// the synced txids and the time, usable as `backup:restore --at <time>`).
// litestream.preflight decides what a failure does: `refuse` stops the deploy before anything
// changed (the old release keeps serving), `warn` logs and carries on.
import type { App } from '../config/schema.ts';
import { StepError } from '../errors.ts';
import { backupScripts } from '../exec/backup-scripts.ts';
import {
  appProject,
  NETWORK,
  RESTORE_POINTS_KEPT,
  restorePointsDir,
} from '../names.ts';
import { parseSections } from '../plan/backup-status.ts';
import { stamp } from './backup.ts';
import type { Deps } from './deps.ts';
import type { HostHandle } from './host.ts';

export interface PreflightDb {
  path: string;
  txid?: number;
  replicaTxid?: number;
  current: boolean;
  note?: string;
}

export interface PreflightResult {
  ok: boolean;
  databases: PreflightDb[];
  restorePoint?: string;
  problems: string[];
}

/** Output of the PREFLIGHT host script → per-database sync result (PURE). */
export function parsePreflight(text: string): PreflightResult {
  const sections = parseSections(text);
  const problems: string[] = [];
  const error = sections.find((s) => s.name === 'error');
  if (error) problems.push(error.arg);
  const databases: PreflightDb[] = [];
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i]!;
    if (s.name !== 'sync') continue;
    const exit = sections[i + 1]?.name === 'exit' ? Number(sections[i + 1]!.arg) : -1;
    const body = s.lines.join('\n').trim();
    const db: PreflightDb = { path: s.arg, current: false };
    let json: { txid?: number; replica_txid?: number } | undefined;
    try {
      json = JSON.parse(body.slice(Math.max(0, body.indexOf('{'))));
    } catch {
      json = undefined;
    }
    if (exit === 0 && json && json.txid !== undefined) {
      db.txid = json.txid;
      db.replicaTxid = json.replica_txid;
      db.current = (json.replica_txid ?? -1) >= (json.txid ?? 0);
      if (!db.current) db.note = `replica at txid ${json.replica_txid} behind local ${json.txid}`;
    } else if (/no database yet|no position, waiting for data/i.test(body)) {
      // First deploy: the release command creates the database; nothing to protect yet.
      db.current = true;
      db.note = 'no database yet';
    } else {
      db.note = `sync failed: ${body.split('\n').slice(-2).join(' ').slice(0, 300) || `exit ${exit}`}`;
    }
    if (!db.current) problems.push(`${db.path}: ${db.note}`);
    databases.push(db);
  }
  const points = sections.filter((s) => s.name === 'point').map((s) => s.arg);
  if (!sections.some((s) => s.name === 'end') && !error) problems.push('pre-flight script did not finish');
  return { ok: problems.length === 0, databases, problems, ...(points.length ? { restorePoint: points.join(',') } : {}) };
}

export async function backupPreflight(deps: Deps, h: HostHandle, app: App, release: string): Promise<PreflightResult | undefined> {
  const ls = app.config.litestream;
  if (!ls) return undefined;
  const when = deps.now();
  const dir = `${restorePointsDir(app.name)}/${stamp(when)}-${release.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  const res = await deps.runner.run(backupScripts.preflight(h.ssh, appProject(app.name), ls.image, NETWORK, dir, RESTORE_POINTS_KEPT, ls.databases), { allowFailure: true });
  if (res.dryRun) return undefined;
  const result = parsePreflight(res.stdout);
  if (res.exitCode !== 0) result.problems.push(`pre-flight script exited ${res.exitCode}: ${res.stderr.trim().slice(-300)}`);
  result.ok = result.problems.length === 0;
  if (result.ok) {
    deps.log.info(`${h.name}: replication current (${result.databases.map((d) => `${d.path.split('/').pop()} txid ${d.txid ?? '-'}`).join(', ')}); restore point ${when.toISOString()}${result.restorePoint ? ` + copies in ${dir}` : ''} (npm run backup:restore -- ${app.name} --at ${when.toISOString()})`);
    return result;
  }
  const msg = `${h.name}: replication of ${app.name} is not current before migrations: ${result.problems.join('; ')}`;
  if (ls.preflight === 'refuse') {
    throw new StepError('backup pre-flight', `${msg}\nNothing was migrated or switched; the old release keeps serving. Fix replication (npm run backup:status -- ${app.name}) or set litestream.preflight: warn.`);
  }
  deps.log.warn(`${msg} (litestream.preflight: warn, continuing)`);
  return result;
}
