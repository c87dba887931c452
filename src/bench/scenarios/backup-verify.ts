// Time of `npm run backup:verify` for the Rails app's four SQLite databases replicated by
// Litestream to the sandbox S3.
import type { BenchContext } from '../context.ts';
import { makeProject, resetApps, sleep, timedBerth } from '../env.ts';
import { S3 } from '../../sandbox/config.ts';

const APP = 'benchrails';
const DBS = ['production', 'production_cache', 'production_queue', 'production_cable'].map((d) => `/rails/storage/${d}.sqlite3`);
const env = { SECRET_KEY_BASE: 'kb-bench-3c9e', LITESTREAM_ACCESS_KEY_ID: S3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: S3.secretAccessKey };

export async function runBackupVerify(ctx: BenchContext) {
  resetApps([APP]);
  const p = makeProject('berth-bench-bk-');
  try {
    p.writeApp(APP, {
      image: 'berth/railsapp', hosts: ['h1'], domains: [`${APP}.berth.test`], tls: { mode: 'none' }, port: 80,
      healthcheck: { path: '/up', interval: '1s', timeout: '2s', retries: 5, start_period: '3s' },
      volumes: { storage: '/rails/storage' }, env: { DB_PREPARE_ON_BOOT: '0' },
      secrets: ['SECRET_KEY_BASE', 'LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'],
      release_command: 'bin/rails db:prepare',
      litestream: { databases: DBS, replica: { url: `s3://${S3.bucket}/bench/${Date.now()}/rails`, endpoint: S3.networkEndpoint, force_path_style: true } },
      deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 60 },
    });
    await timedBerth(p, 'deploy', [APP, '--release', 'v1'], env);
    await sleep(5000); // let Litestream ship the first snapshots
    for (let i = 0; i < ctx.reps(3); i++) {
      const { wallMs } = await timedBerth(p, 'backup-verify', [APP], env);
      ctx.rec.add('backup.verify', 'backup:verify time (Rails app, 4 SQLite databases)', 'ms', wallMs);
      ctx.rec.run({ scenario: 'backup-verify', wallMs });
      ctx.log(`backup:verify ${APP}: ${(wallMs / 1000).toFixed(2)} s`);
    }
  } finally {
    resetApps([APP]);
    p.cleanup();
  }
}
