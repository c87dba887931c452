// litestream.yml (Litestream 0.5) of one app (PURE). Credentials are never in this file: the
// litestream service gets LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY in its
// environment, which Litestream reads on its own.
import type { App, LitestreamConfig } from '../config/schema.ts';
import { LITESTREAM_SOCKET, parseS3Url, replicaPath as replicaPathOf } from '../names.ts';
import { generatedHeader, toYaml } from './yaml.ts';

export { parseS3Url } from '../names.ts';

/** Replica path of one database (see names.ts replicaPath). */
export const replicaPath = (app: string, ls: LitestreamConfig, db: string) => replicaPathOf(app, ls.replica.url, db);

/** Litestream reads the WAL every `monitor-interval` (its default: 1s), whatever the replica's sync-interval. */
const LITESTREAM_MONITOR_MS = 1000;

const durationMs = (d: string) => {
  const m = /^(\d+)(ms|s|m|h)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
};

export function renderLitestream(app: App): string {
  const ls = app.config.litestream!;
  const { bucket } = parseS3Url(ls.replica.url);
  const dbs = ls.databases.map((path) => {
    const replica: Record<string, unknown> = { type: 's3', bucket, path: replicaPath(app.name, ls, path) };
    if (ls.replica.endpoint) replica.endpoint = ls.replica.endpoint;
    replica.region = ls.replica.region;
    replica['force-path-style'] = ls.replica.force_path_style;
    replica['sync-interval'] = ls.sync_interval;
    // A sync_interval under a second only shortens the loss window if Litestream also reads the
    // WAL that often: the bench measured the same ~1 s of LTX files with sync-interval alone.
    const monitor = durationMs(ls.sync_interval) < LITESTREAM_MONITOR_MS ? { 'monitor-interval': ls.sync_interval } : {};
    return { path, ...monitor, replica };
  });
  const doc = {
    // The control socket lets backup:status read each database's last sync, and the deploy
    // pre-flight and restore force a sync (`litestream sync -wait`), through `docker exec`.
    socket: { enabled: true, path: LITESTREAM_SOCKET },
    snapshot: { interval: ls.snapshot_interval, retention: ls.retention },
    dbs,
  };
  const header = generatedHeader(
    app.file,
    'Litestream 0.5 config of the litestream service. Credentials come from LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY in its environment.',
  );
  return toYaml(doc, header);
}
