// litestream.yml (Litestream 0.5) of one app (PURE). Credentials are never in this file: the
// litestream service gets LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY in its
// environment, which Litestream reads on its own.
import type { App, LitestreamConfig } from '../config/schema.ts';
import { LITESTREAM_SOCKET, parseS3Url, replicaPath as replicaPathOf } from '../names.ts';
import { generatedHeader, toYaml } from './yaml.ts';

export { parseS3Url } from '../names.ts';

/** Replica path of one database (see names.ts replicaPath). */
export const replicaPath = (app: string, ls: LitestreamConfig, db: string) => replicaPathOf(app, ls.replica.url, db);

export function renderLitestream(app: App): string {
  const ls = app.config.litestream!;
  const { bucket } = parseS3Url(ls.replica.url);
  const dbs = ls.databases.map((path) => {
    const replica: Record<string, unknown> = { type: 's3', bucket, path: replicaPath(app.name, ls, path) };
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
