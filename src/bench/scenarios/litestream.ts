// Litestream's data-loss window after a crash: the test app writes to SQLite under constant load
// while a litestream replicator ships the WAL to the sandbox S3; both are `docker kill`ed at once
// WHILE the writer keeps writing (nothing here blocks the event loop between the first write and
// the kill's return: the kill is an async child process), the replica is restored into a throwaway
// directory on the host, copied here, and the last restored id is compared with the last write
// the app acknowledged. Measured at Berth's default sync_interval and at a shorter one, with the
// replica's uploads (level-0 LTX files) per second of writing: the price of the shorter window.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { appSchema } from '../../config/schema.ts';
import { renderLitestream } from '../../plan/render-litestream.ts';
import { dataLossWindow } from '../analyze.ts';
import type { BenchContext } from '../context.ts';
import { composeOnHost, dockerLocal, H1, onConsole, sleep } from '../env.ts';
import { S3 } from '../../sandbox/config.ts';
import { sandboxRequest, waitFor } from '../../sandbox/http.ts';
import { run } from '../../sandbox/proc.ts';

/** Berth's default `litestream.sync_interval` (read from the config schema, so the bench follows it). */
export const DEFAULT_SYNC_INTERVAL = String((appSchema.shape.litestream.unwrap().shape.sync_interval as { parse(v: undefined): string }).parse(undefined));
/** The shorter interval measured beside it (the trade-off: more uploads for a smaller window). */
export const SHORT_SYNC_INTERVAL = '100ms';
const PROJECT = 'bench-litestream';
const PORT = 18091; // published on h1's fleet address (reachable from this machine, not from outside)
const APP_URL = `http://${H1.address}:${PORT}`;
const LITESTREAM_IMAGE = 'litestream/litestream:0.5.17';
const RATE = 100;
const WRITE_MS = 6000;

/** The db entry as Berth renders it for `syncInterval` (render-litestream.ts), pointed at this run's replica path. */
function litestreamYml(path: string, syncInterval: string) {
  const app = { name: 'bench', dir: '/bench', file: 'bench/app.yml', config: appSchema.parse({ image: 'berth/testapp:v1', volumes: { data: '/data' }, litestream: { databases: ['/data/app.sqlite3'], replica: { url: `s3://${S3.bucket}/bench`, endpoint: S3.networkEndpoint, region: S3.region, force_path_style: true }, sync_interval: syncInterval } }) };
  const db = (YAML.parse(renderLitestream(app)) as { dbs: { replica: Record<string, unknown> }[] }).dbs[0]!;
  return YAML.stringify({ dbs: [{ ...db, path: '/data/app.sqlite3', replica: { ...db.replica, path } }] });
}

/** `hostDir`: a directory on h1 holding litestream.yml (the replicator runs there). */
function composeYml(hostDir: string) {
  return YAML.stringify({
    services: {
      app: {
        image: 'berth/testapp:v1',
        volumes: ['data:/data'],
        ports: [`${H1.address}:${PORT}:80`],
        healthcheck: { test: ['CMD', 'curl', '-fsS', 'http://127.0.0.1:80/up'], interval: '1s', timeout: '1s', retries: 5 },
      },
      litestream: {
        image: LITESTREAM_IMAGE,
        command: ['replicate', '-config', '/etc/litestream.yml'],
        volumes: ['data:/data', `${hostDir}/litestream.yml:/etc/litestream.yml:ro`],
        environment: { LITESTREAM_ACCESS_KEY_ID: S3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: S3.secretAccessKey },
        networks: ['default', 'berth'],
      },
    },
    volumes: { data: {} },
    networks: { berth: { external: true } },
  });
}

/** Constant-rate POST /write loop recording each acknowledged id and its ack time; bounded. */
function writeLoop(rate: number, maxMs: number) {
  const acks: { id: number; ackAt: number }[] = [];
  let stopped = false;
  let failed = 0;
  const inflight = new Set<Promise<void>>();
  let startedAt = 0;
  const done = (async () => {
    startedAt = Date.now();
    const t0 = performance.now();
    for (let i = 0; i < Math.ceil((rate * maxMs) / 1000) && !stopped; i++) {
      const due = (i * 1000) / rate;
      const now = performance.now() - t0;
      if (due > now) await sleep(due - now);
      if (stopped) break;
      const p = sandboxRequest(`${APP_URL}/write`, { method: 'POST', body: `w${i}`, timeoutMs: 3000 })
        .then((r) => {
          if (r.status >= 200 && r.status < 300) acks.push({ id: (JSON.parse(r.body) as { id: number }).id, ackAt: Date.now() });
          else failed++;
        })
        .catch(() => void failed++)
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.all(inflight);
  })();
  return { acks, stop: () => void (stopped = true), done, failed: () => failed, startedAt: () => startedAt };
}

export async function runLitestream(ctx: BenchContext) {
  for (let i = 0; i < ctx.reps(3); i++) await crashOnce(ctx, DEFAULT_SYNC_INTERVAL, '', i);
  for (let i = 0; i < ctx.reps(2); i++) await crashOnce(ctx, SHORT_SYNC_INTERVAL, '.short', i);
}

const litestreamEnv = ['-e', `LITESTREAM_ACCESS_KEY_ID=${S3.accessKeyId}`, '-e', `LITESTREAM_SECRET_ACCESS_KEY=${S3.secretAccessKey}`];

async function crashOnce(ctx: BenchContext, syncInterval: string, suffix: string, i: number) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-ls-'));
  chmodSync(dir, 0o755);
  const replicaPath = `bench/litestream/${Date.now()}-${i}/app.sqlite3`;
  // The replicator's config and the restore's output live on h1, where the containers run.
  const hostDir = `/tmp/berth-bench-ls-${process.pid}-${i}`;
  const put = await onConsole(H1, `rm -rf ${hostDir} && mkdir -p ${hostDir} && cat > ${hostDir}/litestream.yml`, { input: litestreamYml(replicaPath, syncInterval), allowFail: true });
  if (put.code !== 0) throw new Error(`could not write litestream.yml on h1: ${put.stderr.trim()}`);
  const file = join(dir, 'compose.yml');
  writeFileSync(file, composeYml(hostDir));
  const down = () => composeOnHost(PROJECT, file, ['down', '-v', '-t', '1']);
  const label = `sync_interval ${syncInterval}${syncInterval === DEFAULT_SYNC_INTERVAL ? ', the default' : ''}`;
  try {
    await down();
    await composeOnHost(PROJECT, file, ['up', '-d', '--wait', 'app']);
    // The first write creates the database (WAL mode); then the replicator starts and catches up.
    // (A minute: on a loaded machine the app container can take tens of seconds to answer.)
    await waitFor('first write', async () => (await sandboxRequest(`${APP_URL}/write`, { method: 'POST', body: 'first' }).catch(() => undefined))?.status === 200 || undefined, { timeoutMs: 60_000, intervalMs: 300 });
    await composeOnHost(PROJECT, file, ['up', '-d', 'litestream']);
    // Looked up before the writes start: from the first write to the kill's return nothing blocks.
    const ids = dockerLocal(['ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`]).split('\n').filter(Boolean);
    await sleep(3000);
    const loop = writeLoop(RATE, WRITE_MS + 5000);
    await sleep(WRITE_MS);
    const killedAt = Date.now();
    // App and replicator in one command (a crash of the host's processes); the writer keeps writing
    // meanwhile and for a moment after (those writes fail: nothing is acknowledged by a dead app).
    await run(['docker', 'exec', H1.container, 'docker', 'kill', ...ids], { timeoutMs: 30_000 });
    const killReturnedAt = Date.now();
    await sleep(300);
    loop.stop();
    await loop.done;
    const restoreArgv = (cmd: string[]) => ['docker', 'exec', H1.container, 'docker', 'run', '--rm', '--network', 'berth', ...litestreamEnv, '-v', `${hostDir}:/work`, LITESTREAM_IMAGE, ...cmd];
    const r = await run(restoreArgv(['restore', '-config', '/work/litestream.yml', '-o', '/work/restored.sqlite3', '/data/app.sqlite3']), { allowFail: true, timeoutMs: 120_000 });
    const copied = r.code === 0 ? await run(['docker', 'cp', `${H1.container}:${hostDir}/restored.sqlite3`, join(dir, 'restored.sqlite3')], { allowFail: true }) : r;
    if (r.code !== 0 || copied.code !== 0 || !existsSync(join(dir, 'restored.sqlite3'))) throw new Error(`litestream restore failed (exit ${r.code}): ${(r.stderr + r.stdout + copied.stderr).trim().slice(-800)}`);
    // Python's sqlite3 module (Python is on the machine; the sqlite3 CLI may not be).
    const lastRestored = Number(execFileSync('python3', ['-c', 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select coalesce(max(id),0) from rows").fetchone()[0])', join(dir, 'restored.sqlite3')], { encoding: 'utf8' }).trim());
    // Level-0 LTX files: one upload per sync that had changes (litestream 0.5).
    const ltx = await run(restoreArgv(['ltx', '-config', '/work/litestream.yml', '-json', '/data/app.sqlite3']), { allowFail: true, timeoutMs: 60_000 });
    const uploads = ltx.code === 0 ? countLtxFiles(ltx.stdout) : undefined;
    const w = dataLossWindow(loop.acks, lastRestored);
    const writeS = (killedAt - loop.startedAt()) / 1000;
    ctx.rec.add(`litestream.window${suffix}`, `Litestream data-loss window after a crash (${label})`, 'ms', w.windowMs);
    ctx.rec.add(`litestream.rows${suffix}`, `Litestream: acknowledged writes lost after a crash (${label})`, 'rows', w.lostRows);
    ctx.rec.add(`litestream.uploads${suffix}`, `Litestream: replica uploads per second of writes (${label})`, 'count', uploads === undefined ? undefined : uploads / writeS);
    ctx.rec.run({ scenario: 'litestream', syncInterval, rate: RATE, acked: loop.acks.length, failedWrites: loop.failed(), lastRestored, killedAt, killMs: killReturnedAt - killedAt, acksDuringKill: loop.acks.filter((a) => a.ackAt >= killedAt).length, uploads, ...w });
    ctx.raw(`litestream${suffix}-${i + 1}`, { syncInterval, acks: loop.acks, lastRestored, killedAt, killReturnedAt, ltx: ltx.stdout.slice(0, 20_000) });
    ctx.log(`litestream (${label}) #${i + 1}: ${loop.acks.length} writes acked (${loop.acks.filter((a) => a.ackAt >= killedAt).length} during the kill), last ${w.lastAckedId}, restored up to ${lastRestored}: ${w.lostRows} lost, window ${w.windowMs} ms, ${uploads ?? '?'} uploads`);
  } finally {
    await down().catch(() => undefined);
    await onConsole(H1, `rm -rf ${hostDir}`, { allowFail: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `litestream ltx -json` output: an array of files, or one JSON object per line. */
export function countLtxFiles(out: string): number {
  const text = out.trim();
  if (!text) return 0;
  try {
    const j = JSON.parse(text) as unknown;
    if (Array.isArray(j)) return j.length;
  } catch {
    /* one object per line */
  }
  return text.split('\n').filter((l) => l.trim().startsWith('{')).length;
}
