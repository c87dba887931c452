// litestream.yml (Litestream 0.5) of one app (PURE). Credentials are never in this file: the
// litestream service gets LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY in its
// environment, which Litestream reads on its own.
import type { App, LitestreamConfig } from '../config/schema.ts';
import { LITESTREAM_SOCKET } from '../names.ts';
import { generatedHeader, toYaml } from './yaml.ts';

/** "s3://bucket/some/prefix" → { bucket, prefix } (prefix without leading/trailing slashes). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(\/.*)?$/.exec(url);
  if (!m) throw new Error(`not an S3 URL: ${url}`);
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

const baseName = (p: string) => p.split('/').pop()!;

/** Replica path of one database: `<prefix>/<db file name>`, so each database has its own. */
export const replicaPath = (ls: LitestreamConfig, db: string) => {
  const { prefix } = parseS3Url(ls.replica.url);
  return prefix ? `${prefix}/${baseName(db)}` : baseName(db);
};

export function renderLitestream(app: App): string {
  const ls = app.config.litestream!;
  const { bucket } = parseS3Url(ls.replica.url);
  const dbs = ls.databases.map((path) => {
    const replica: Record<string, unknown> = { type: 's3', bucket, path: replicaPath(ls, path) };
    if (ls.replica.endpoint) replica.endpoint = ls.replica.endpoint;
    replica.region = ls.replica.region;
    replica['force-path-style'] = ls.replica.force_path_style;
    replica['sync-interval'] = ls.sync_interval;
    return { path, replica };
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
