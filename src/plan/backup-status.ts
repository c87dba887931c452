// backup:status and backup:verify as pure functions (PURE): parse what the host scripts of
// src/exec/backup-scripts.ts print, decide red/green against the app's thresholds, format.
//
// Signals, fastest first:
// - the replica listing (`litestream ltx -level all -json <db>`, run against the storage on every
//   status): fails at once when the storage is unreachable → "storage unreachable";
// - the replicator container (missing, exited, restarting) → "replicator not running";
// - positions: local txid (`litestream status -json`) vs the highest txid in the replica; when
//   the replica is behind, the lag is the time since the daemon's last successful sync
//   (`litestream list -json`, over the control socket) → "lag Ns > max_lag_seconds";
// - the last backup:verify (verify.json on the host): failed, never ran, or older than
//   litestream.max_verify_age_hours;
// - pg_dump: the backup service not running, or the newest dump older than twice its period.
import type { App } from '../config/schema.ts';
import { parseS3Url, replicaPath } from './render-litestream.ts';
import { byText } from '../text-order.ts';

export interface Section {
  name: string;
  arg: string;
  lines: string[];
}

/** Split `--name arg` marked output into sections (lines before the first marker are dropped). */
export function parseSections(text: string): Section[] {
  const out: Section[] = [];
  for (const line of text.split('\n')) {
    const m = /^--([a-z-]+)(?: (.*))?$/.exec(line);
    if (m) out.push({ name: m[1]!, arg: m[2] ?? '', lines: [] });
    else if (out.length) out[out.length - 1]!.lines.push(line);
  }
  return out;
}

const txid = (hex: unknown): number | undefined => (typeof hex === 'string' && /^[0-9a-f]+$/i.test(hex) ? parseInt(hex, 16) : typeof hex === 'number' ? hex : undefined);

function tryJson<T>(lines: string[]): T | undefined {
  const text = lines.join('\n').trim();
  const start = text.search(/[[{]/);
  if (start < 0) return undefined;
  try {
    return JSON.parse(text.slice(start)) as T;
  } catch {
    return undefined;
  }
}

const firstLine = (lines: string[]) => lines.map((l) => l.trim()).filter(Boolean).join(' ').slice(0, 300);

export interface LtxFile {
  level: number;
  min_txid: string;
  max_txid: string;
  size: number;
  timestamp: string;
}

export interface ReplicaListing {
  ok: boolean;
  error?: string;
  maxTxid?: number;
  lastFileAt?: string;
  snapshot?: { txid: number; at: string };
}

/** `litestream ltx -level all -json` output (+ its `--exit` code) → replica position and snapshot. */
export function parseLtxListing(lines: string[], exitCode: number): ReplicaListing {
  const files = tryJson<LtxFile[]>(lines);
  if (exitCode !== 0 || !Array.isArray(files)) {
    const msg = firstLine(lines) || (exitCode === 124 ? 'timed out' : `exit ${exitCode}`);
    return { ok: false, error: exitCode === 124 ? `timed out listing the replica: ${msg}` : msg };
  }
  let maxTxid: number | undefined;
  let lastFileAt: string | undefined;
  let snapshot: ReplicaListing['snapshot'];
  for (const f of files) {
    const t = txid(f.max_txid);
    if (t !== undefined && (maxTxid === undefined || t > maxTxid)) maxTxid = t;
    if (!lastFileAt || f.timestamp > lastFileAt) lastFileAt = f.timestamp;
    if (f.level === 9 && t !== undefined && (!snapshot || t > snapshot.txid)) snapshot = { txid: t, at: f.timestamp };
  }
  return { ok: true, maxTxid, lastFileAt, snapshot };
}

/** `litestream status -json` → local txid and status per database path. */
export function parseLocalStatus(lines: string[]): Map<string, { status: string; txid?: number }> {
  const rows = tryJson<{ database: string; status: string; local_txid?: string }[]>(lines) ?? [];
  return new Map(rows.map((r) => [r.database, { status: r.status, txid: txid(r.local_txid) }]));
}

/** `litestream list -json` (control socket) → daemon status and last successful sync per path. */
export function parseDaemonList(lines: string[]): Map<string, { status: string; lastSyncAt?: string }> {
  const doc = tryJson<{ databases?: { path: string; status: string; last_sync_at?: string }[] }>(lines);
  return new Map((doc?.databases ?? []).map((d) => [d.path, { status: d.status, lastSyncAt: d.last_sync_at }]));
}

// ---------------------------------------------------------------- verify records

export interface VerifyDb {
  path: string;
  restore: 'ok' | 'failed';
  txid?: number;
  integrity?: string;
  /** Rows per table in the restored copy and in the live database. */
  restored?: Record<string, number>;
  live?: Record<string, number>;
  /** Human summary of the comparison. */
  comparison?: string;
  ok: boolean;
  error?: string;
}

export interface VerifyRecord {
  app: string;
  host: string;
  at: string;
  ok: boolean;
  databases: VerifyDb[];
  error?: string;
}

/**
 * Compare row counts of a restore with the live database. The restore ran after a forced sync and
 * before the live count, so the live side may be ahead by the writes made in between (within the
 * replication lag); the same tables must exist on both sides. A table with MORE rows in the
 * restore than live is allowed only up to `slack` rows (deletes in that short window).
 */
export function compareCounts(restored: Record<string, number>, live: Record<string, number> | undefined, slack = 50): { ok: boolean; summary: string } {
  if (!live) return { ok: true, summary: 'live database absent: nothing to compare' };
  const a = Object.keys(restored).sort();
  const b = Object.keys(live).sort();
  const missing = b.filter((t) => !(t in restored));
  const extra = a.filter((t) => !(t in live));
  if (missing.length || extra.length) {
    return { ok: false, summary: `tables differ: ${missing.length ? `missing in the restore: ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `only in the restore: ${extra.join(', ')}` : ''}` };
  }
  const behind: string[] = [];
  const ahead: string[] = [];
  for (const t of a) {
    const d = live[t]! - restored[t]!;
    if (d > 0) behind.push(`${t} -${d}`);
    if (d < 0) ahead.push(`${t} +${-d}`);
  }
  const tooFar = a.filter((t) => restored[t]! - live[t]! > slack);
  if (tooFar.length) return { ok: false, summary: `restore has more rows than live: ${ahead.join(', ')}` };
  if (!behind.length && !ahead.length) return { ok: true, summary: `${a.length} tables, row counts match` };
  return { ok: true, summary: `${a.length} tables; within replication lag: ${[...behind, ...ahead].join(', ')}` };
}

/** Output of the VERIFY host script → one verify record. */
export function parseVerifyOutput(text: string, app: string, host: string, at: string): VerifyRecord {
  const sections = parseSections(text);
  const error = sections.find((s) => s.name === 'error');
  if (error) return { app, host, at, ok: false, databases: [], error: error.arg };
  const dbs: VerifyDb[] = [];
  for (const s of sections.filter((x) => x.name === 'db')) {
    const db: VerifyDb = { path: s.arg, restore: 'failed', ok: false };
    const log: string[] = [];
    const restored: Record<string, number> = {};
    const live: Record<string, number> = {};
    let sawLive = false;
    for (const line of s.lines) {
      const [k, ...rest] = line.split(' ');
      const v = rest.join(' ');
      if (k === 'restore') db.restore = v === 'ok' ? 'ok' : 'failed';
      else if (k === 'txid') db.txid = txid(v);
      else if (k === 'integrity') db.integrity = v.trim();
      else if (k === 'restored') restored[rest[0]!] = Number(rest[1]);
      else if (k === 'live') {
        sawLive = true;
        live[rest[0]!] = Number(rest[1]);
      } else if (k === 'log') log.push(v);
    }
    if (db.restore === 'failed') {
      db.error = `restore failed: ${log.join(' | ').slice(0, 500) || 'no output'}`;
    } else {
      const integrityOk = !!db.integrity && /^ok\b/.test(db.integrity);
      db.restored = restored;
      if (sawLive) db.live = live;
      const cmp = Object.keys(restored).length || sawLive ? compareCounts(restored, sawLive ? live : undefined) : { ok: true, summary: 'not compared' };
      db.comparison = cmp.summary;
      db.ok = integrityOk && cmp.ok;
      if (!integrityOk) db.error = `integrity check: ${db.integrity ?? 'not run'}`;
      else if (!cmp.ok) db.error = cmp.summary;
    }
    dbs.push(db);
  }
  if (!sections.some((s) => s.name === 'end')) return { app, host, at, ok: false, databases: dbs, error: 'verify script did not finish' };
  return { app, host, at, ok: dbs.length > 0 && dbs.every((d) => d.ok), databases: dbs, ...(dbs.length ? {} : { error: 'no database verified' }) };
}

// ---------------------------------------------------------------- status

export interface DbStatus {
  host: string;
  app: string;
  db: string;
  replica: string;
  replicator: string;
  storage: 'ok' | 'unreachable' | 'unknown';
  storageError?: string;
  localTxid?: number;
  replicaTxid?: number;
  lastSyncAt?: string;
  lagSeconds?: number;
  lastSnapshotAt?: string;
  lastVerifyAt?: string;
  lastVerifyOk?: boolean;
  lastVerifyNote?: string;
  ok: boolean;
  problems: string[];
}

export interface DumpStatus {
  host: string;
  app: string;
  accessory: string;
  service: string;
  schedule: string;
  keep: number;
  dumps: { name: string; size: number; at: string }[];
  ok: boolean;
  problems: string[];
}

export interface AppBackupObservation {
  app: string;
  replicator?: { state: string; restarts: number; startedAt: string } | 'missing';
  list: Map<string, { status: string; lastSyncAt?: string }>;
  local: Map<string, { status: string; txid?: number }>;
  ltx: Map<string, ReplicaListing>;
  verify?: VerifyRecord;
  backupServices: Map<string, string>;
  dumps: Map<string, { name: string; size: number; at: string }[]>;
}

export interface HostObservation {
  now: number;
  apps: Map<string, AppBackupObservation>;
}

/** Output of the OBSERVE host script → per-app observations. */
export function parseBackupObservation(text: string): HostObservation {
  const sections = parseSections(text);
  let now = NaN;
  const apps = new Map<string, AppBackupObservation>();
  let cur: AppBackupObservation | undefined;
  let pendingLtx: Section | undefined;
  for (const s of sections) {
    if (s.name === 'now') now = Number(s.arg);
    else if (s.name === 'app') {
      cur = { app: s.arg, list: new Map(), local: new Map(), ltx: new Map(), backupServices: new Map(), dumps: new Map() };
      apps.set(s.arg, cur);
    } else if (!cur) continue;
    else if (s.name === 'replicator') {
      if (s.arg === 'missing') cur.replicator = 'missing';
      else {
        const [state, restarts, startedAt] = s.arg.split(' ');
        cur.replicator = { state: state ?? 'unknown', restarts: Number(restarts ?? 0), startedAt: startedAt ?? '' };
      }
    } else if (s.name === 'list') cur.list = parseDaemonList(s.lines);
    else if (s.name === 'local') cur.local = parseLocalStatus(s.lines);
    else if (s.name === 'ltx') {
      // The listing's exit code follows as its own `--exit N` marker; until then it counts as failed.
      cur.ltx.set(s.arg, parseLtxListing(s.lines, -1));
      pendingLtx = s;
    } else if (s.name === 'exit') {
      if (pendingLtx) cur.ltx.set(pendingLtx.arg, parseLtxListing(pendingLtx.lines, Number(s.arg)));
      pendingLtx = undefined;
    } else if (s.name === 'verify') cur.verify = tryJson<VerifyRecord>(s.lines);
    else if (s.name === 'backup-service') {
      const [acc, ...state] = s.arg.split(' ');
      cur.backupServices.set(acc!, state.join(' ').trim() || 'missing');
    } else if (s.name === 'dumps') {
      cur.dumps.set(
        s.arg,
        s.lines.filter((l) => l.trim()).map((l) => {
          const [size, mtime, name] = l.trim().split(' ');
          return { name: name!, size: Number(size), at: new Date(Number(mtime) * 1000).toISOString() };
        }),
      );
    }
  }
  return { now, apps };
}

const iso = (s?: string) => (s ? Date.parse(s) : NaN);

/** Seconds between scheduled dumps. */
export function schedulePeriodSeconds(schedule: string): number {
  const m = /^every:(\d+)(s|m|h)$/.exec(schedule);
  if (m) return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
  return schedule === 'hourly' ? 3600 : 86400;
}

/** Decide red/green for every database and dump set of one app on one host. */
export function evaluateAppBackups(app: App, host: string, obs: AppBackupObservation | undefined, nowSec: number): { dbs: DbStatus[]; dumps: DumpStatus[] } {
  const dbs: DbStatus[] = [];
  const ls = app.config.litestream;
  const now = nowSec * 1000;
  if (ls) {
    const { bucket } = parseS3Url(ls.replica.url);
    for (const db of ls.databases) {
      const problems: string[] = [];
      const row: DbStatus = { host, app: app.name, db, replica: `s3://${bucket}/${replicaPath(app.name, ls, db)}`, replicator: 'unknown', storage: 'unknown', ok: false, problems };
      const r = obs?.replicator;
      if (!obs || !r || r === 'missing') {
        row.replicator = 'missing';
        problems.push('no litestream container (not deployed yet?)');
      } else {
        row.replicator = r.state === 'running' ? `running${r.restarts ? ` (${r.restarts} restarts)` : ''}` : r.state;
        if (r.state !== 'running') problems.push(`replicator ${r.state}`);
      }
      const listing = obs?.ltx.get(db);
      if (listing) {
        row.storage = listing.ok ? 'ok' : 'unreachable';
        if (!listing.ok) {
          row.storageError = listing.error;
          problems.push(`storage unreachable: ${listing.error}`);
        }
        row.replicaTxid = listing.maxTxid;
        row.lastSnapshotAt = listing.snapshot?.at;
      }
      const local = obs?.local.get(db);
      row.localTxid = local?.txid;
      const daemon = obs?.list.get(db);
      row.lastSyncAt = daemon?.lastSyncAt;
      if (daemon && daemon.status !== 'replicating') problems.push(`litestream reports ${daemon.status}`);
      if (local && local.status !== 'ok' && local.status !== 'no database') problems.push(`local status ${local.status}`);
      if (row.localTxid !== undefined) {
        if (row.replicaTxid !== undefined && row.replicaTxid >= row.localTxid) row.lagSeconds = 0;
        else {
          const since = iso(row.lastSyncAt) || iso(listing?.lastFileAt) || iso(r && r !== 'missing' ? r.startedAt : undefined);
          row.lagSeconds = Number.isFinite(since) ? Math.max(0, Math.round((now - since) / 1000)) : undefined;
          if (row.lagSeconds === undefined) problems.push('replica position unknown');
          else if (row.lagSeconds > ls.max_lag_seconds) problems.push(`lag ${row.lagSeconds}s > ${ls.max_lag_seconds}s`);
        }
      }
      const v = obs?.verify;
      const vdb = v?.databases.find((d) => d.path === db);
      if (v) {
        row.lastVerifyAt = v.at;
        row.lastVerifyOk = vdb ? vdb.ok : v.ok && !v.databases.length;
        row.lastVerifyNote = vdb ? (vdb.ok ? vdb.comparison : vdb.error) : v.error ?? 'database not in the last verify';
      }
      if (!v) problems.push('never verified (npm run backup:verify -- ' + app.name + ')');
      else if (!row.lastVerifyOk) problems.push(`last verify failed: ${row.lastVerifyNote ?? ''}`.trim());
      else if (now - iso(v.at) > ls.max_verify_age_hours * 3600_000) problems.push(`last verify older than ${ls.max_verify_age_hours}h`);
      row.ok = problems.length === 0;
      dbs.push(row);
    }
  }
  const dumps: DumpStatus[] = [];
  for (const [acc, cfg] of Object.entries(app.config.accessories).sort(([a], [b]) => byText(a, b))) {
    if (!cfg.backup) continue;
    const problems: string[] = [];
    const list = [...(obs?.dumps.get(acc) ?? [])].sort((a, b) => byText(b.name, a.name));
    const service = obs?.backupServices.get(acc) ?? 'missing';
    if (service !== 'running') problems.push(`backup service ${service}`);
    const newest = list[0];
    const period = schedulePeriodSeconds(cfg.backup.schedule);
    // No dump at all is red: a loop whose every pg_dump fails leaves nothing behind, and a
    // database without a single restorable dump is not backed up, however young it is.
    if (!newest) problems.push(`no successful dump yet (schedule ${cfg.backup.schedule}; the backup service logs say why a dump failed)`);
    else if (now - iso(newest.at) > 2 * period * 1000 + 60_000) problems.push(`newest dump older than twice the schedule (${cfg.backup.schedule})`);
    dumps.push({ host, app: app.name, accessory: acc, service, schedule: cfg.backup.schedule, keep: cfg.backup.keep, dumps: list, ok: problems.length === 0, problems });
  }
  return { dbs, dumps };
}

const ago = (at: string | undefined, nowMs: number) => {
  if (!at) return '-';
  // Clocks of the host and this machine may differ by a moment: never show "-1s ago".
  const s = Math.max(0, Math.round((nowMs - Date.parse(at)) / 1000));
  if (!Number.isFinite(s)) return '-';
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : s < 172800 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`;
};

const hex = (n?: number) => (n === undefined ? '-' : n.toString(16));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function formatBackupStatus(dbs: DbStatus[], dumps: DumpStatus[], nowMs: number): string {
  const out: string[] = [];
  if (dbs.length) {
    out.push(
      table(
        ['', 'HOST', 'APP', 'DATABASE', 'REPLICA', 'REPLICATOR', 'LAST SYNC', 'LAG', 'LOCAL/REPLICA TXID', 'SNAPSHOT', 'VERIFIED'],
        dbs.map((d) => [
          d.ok ? 'ok' : 'RED',
          d.host,
          d.app,
          d.db,
          d.replica,
          d.replicator,
          ago(d.lastSyncAt, nowMs),
          d.lagSeconds === undefined ? '-' : `${d.lagSeconds}s`,
          `${hex(d.localTxid)}/${hex(d.replicaTxid)}`,
          ago(d.lastSnapshotAt, nowMs),
          d.lastVerifyAt ? `${d.lastVerifyOk ? 'ok' : 'FAILED'} ${ago(d.lastVerifyAt, nowMs)}` : 'never',
        ]),
      ),
    );
  }
  if (dumps.length) {
    if (out.length) out.push('');
    out.push(
      table(
        ['', 'HOST', 'APP', 'ACCESSORY', 'SERVICE', 'SCHEDULE', 'DUMPS', 'NEWEST'],
        dumps.map((d) => [d.ok ? 'ok' : 'RED', d.host, d.app, d.accessory, d.service, d.schedule, `${d.dumps.length}/${d.keep}`, d.dumps[0] ? `${d.dumps[0].name} (${ago(d.dumps[0].at, nowMs)})` : '-']),
      ),
    );
  }
  const problems = [...dbs.flatMap((d) => d.problems.map((p) => `${d.host} ${d.app} ${d.db}: ${p}`)), ...dumps.flatMap((d) => d.problems.map((p) => `${d.host} ${d.app} ${d.accessory}: ${p}`))];
  if (problems.length) out.push('', ...problems.map((p) => `RED ${p}`));
  if (!dbs.length && !dumps.length) out.push('no app declares litestream or accessory backups');
  return out.join('\n');
}
