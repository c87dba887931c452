// Litestream's data-loss window after a crash: the test app writes to SQLite under constant load
// while a litestream replicator ships the WAL to the sandbox S3 (sync-interval 1s, Berth's default);
// both are `docker kill`ed at once; the replica is restored into a throwaway directory on the host,
// copied here, and the last restored id is compared with the last write the app acknowledged.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { dataLossWindow } from '../analyze.ts';
import type { BenchContext } from '../context.ts';
import { composeOnHost, dockerLocal, H1, onConsole, sleep } from '../env.ts';
import { S3 } from '../../sandbox/config.ts';
import { sandboxRequest, waitFor } from '../../sandbox/http.ts';
import { run } from '../../sandbox/proc.ts';

const PROJECT = 'bench-litestream';
const PORT = 18091; // published on h1's fleet address (reachable from this machine, not from outside)
const APP_URL = `http://${H1.address}:${PORT}`;
const LITESTREAM_IMAGE = 'litestream/litestream:0.5.17';
const RATE = 100;
const WRITE_MS = 6000;

function litestreamYml(path: string) {
  return YAML.stringify({
    dbs: [{ path: '/data/app.sqlite3', replica: { type: 's3', bucket: S3.bucket, path, endpoint: S3.networkEndpoint, region: S3.region, 'force-path-style': true, 'sync-interval': '1s' } }],
  });
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
  const done = (async () => {
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
  return { acks, stop: () => void (stopped = true), done, failed: () => failed };
}

export async function runLitestream(ctx: BenchContext) {
  const reps = ctx.reps(3);
  for (let i = 0; i < reps; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'berth-bench-ls-'));
    chmodSync(dir, 0o755);
    const replicaPath = `bench/litestream/${Date.now()}-${i}/app.sqlite3`;
    // The replicator's config and the restore's output live on h1, where the containers run.
    const hostDir = `/tmp/berth-bench-ls-${process.pid}-${i}`;
    const put = await onConsole(H1, `rm -rf ${hostDir} && mkdir -p ${hostDir} && cat > ${hostDir}/litestream.yml`, { input: litestreamYml(replicaPath), allowFail: true });
    if (put.code !== 0) throw new Error(`could not write litestream.yml on h1: ${put.stderr.trim()}`);
    const file = join(dir, 'compose.yml');
    writeFileSync(file, composeYml(hostDir));
    const down = () => composeOnHost(PROJECT, file, ['down', '-v', '-t', '1']);
    try {
      await down();
      await composeOnHost(PROJECT, file, ['up', '-d', '--wait', 'app']);
      // The first write creates the database (WAL mode); then the replicator starts and catches up.
      // (A minute: on a loaded machine the app container can take tens of seconds to answer.)
      await waitFor('first write', async () => (await sandboxRequest(`${APP_URL}/write`, { method: 'POST', body: 'first' }).catch(() => undefined))?.status === 200 || undefined, { timeoutMs: 60_000, intervalMs: 300 });
      await composeOnHost(PROJECT, file, ['up', '-d', 'litestream']);
      await sleep(3000);
      const loop = writeLoop(RATE, WRITE_MS + 5000);
      await sleep(WRITE_MS);
      const ids = dockerLocal(['ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`]).split('\n').filter(Boolean);
      const killedAt = Date.now();
      dockerLocal(['kill', ...ids]); // app and replicator in one command: a crash of the host's processes
      loop.stop();
      await loop.done;
      const r = await run(['docker', 'exec', H1.container, 'docker', 'run', '--rm', '--network', 'berth', '-e', `LITESTREAM_ACCESS_KEY_ID=${S3.accessKeyId}`, '-e', `LITESTREAM_SECRET_ACCESS_KEY=${S3.secretAccessKey}`,
        '-v', `${hostDir}:/work`, LITESTREAM_IMAGE, 'restore', '-config', '/work/litestream.yml', '-o', '/work/restored.sqlite3', '/data/app.sqlite3'], { allowFail: true, timeoutMs: 120_000 });
      const copied = r.code === 0 ? await run(['docker', 'cp', `${H1.container}:${hostDir}/restored.sqlite3`, join(dir, 'restored.sqlite3')], { allowFail: true }) : r;
      if (r.code !== 0 || copied.code !== 0 || !existsSync(join(dir, 'restored.sqlite3'))) throw new Error(`litestream restore failed (exit ${r.code}): ${(r.stderr + r.stdout + copied.stderr).trim().slice(-800)}`);
      // Python's sqlite3 module (Python is on the machine; the sqlite3 CLI may not be).
      const lastRestored = Number(execFileSync('python3', ['-c', 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select coalesce(max(id),0) from rows").fetchone()[0])', join(dir, 'restored.sqlite3')], { encoding: 'utf8' }).trim());
      const w = dataLossWindow(loop.acks, lastRestored);
      ctx.rec.add('litestream.window', 'Litestream data-loss window after a crash', 'ms', w.windowMs);
      ctx.rec.add('litestream.rows', 'Litestream: acknowledged writes lost after a crash', 'rows', w.lostRows);
      ctx.rec.run({ scenario: 'litestream', rate: RATE, acked: loop.acks.length, failedWrites: loop.failed(), lastRestored, killedAt, ...w });
      ctx.raw(`litestream-${i + 1}`, { acks: loop.acks, lastRestored, killedAt });
      ctx.log(`litestream #${i + 1}: ${loop.acks.length} writes acked, last ${w.lastAckedId}, restored up to ${lastRestored}: ${w.lostRows} lost, window ${w.windowMs} ms`);
    } finally {
      await down().catch(() => undefined);
      await onConsole(H1, `rm -rf ${hostDir}`, { allowFail: true });
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
