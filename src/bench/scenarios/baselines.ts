// Two ways people deploy the same app without Berth, under the same load:
//  naive:   one service, `docker compose up -d --force-recreate`, routed by Traefik's Docker provider;
//  overlap: blue/green on Traefik's Docker provider (labels) without draining: start the new colour,
//           wait until healthy, stop the old one.
// Both use their own compose project and domain, through the same edge, over the same SSH context.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { analyzeRun } from '../analyze.ts';
import type { BenchContext } from '../context.ts';
import { composeOnHost, healthyAt, sleep } from '../env.ts';
import { KEEP_ALIVE, RATES, underLoad } from '../workload.ts';
import { httpsRequest, waitFor } from '../../sandbox/http.ts';

const IMAGE = 'berth/testapp';
export type BaselineName = 'naive' | 'overlap';

function labels(name: string) {
  const r = `bench-${name}`;
  return {
    'traefik.enable': 'true',
    'traefik.docker.network': 'berth',
    [`traefik.http.routers.${r}.rule`]: `Host(\`${r}.berth.test\`)`,
    [`traefik.http.routers.${r}.entrypoints`]: 'websecure',
    [`traefik.http.routers.${r}.tls.certresolver`]: 'letsencrypt',
    [`traefik.http.services.${r}.loadbalancer.server.port`]: '80',
  };
}

const service = (name: string, tagVar: string) => ({
  image: `${IMAGE}:\${${tagVar}:-v1}`,
  volumes: ['data:/data'],
  healthcheck: { test: ['CMD', 'curl', '-fsS', 'http://127.0.0.1:80/up'], interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
  labels: labels(name),
  networks: ['berth'],
});

export function baselineCompose(name: BaselineName): string {
  const services = name === 'naive' ? { web: service(name, 'TAG') } : { 'web-blue': service(name, 'BLUE_TAG'), 'web-green': service(name, 'GREEN_TAG') };
  return YAML.stringify({ services, volumes: { data: {} }, networks: { berth: { external: true } } });
}

/**
 * Bring a baseline project up on v1 (routed over HTTPS), hand `body` its deploy function, then
 * take the project down whatever happens.
 */
export async function withBaseline(ctx: BenchContext, name: BaselineName, body: (deploy: (to: string) => Promise<void>, domain: string) => Promise<void>) {
  const project = `bench-${name}`;
  const domain = `${project}.berth.test`;
  const dir = mkdtempSync(join(tmpdir(), `berth-bench-${name}-`));
  const file = join(dir, 'compose.yml');
  writeFileSync(file, baselineCompose(name));
  const tags = { TAG: 'v1', BLUE_TAG: 'v1', GREEN_TAG: 'v1' };
  let live: 'blue' | 'green' = 'blue';
  const down = () => composeOnHost(project, file, ['down', '-v', '--remove-orphans', '-t', '2'], tags, 120_000);
  try {
    await down();
    await composeOnHost(project, file, ['up', '-d', '--wait', name === 'naive' ? 'web' : 'web-blue'], tags);
    await waitFor(`${domain} over HTTPS`, async () => {
      const x = await httpsRequest(`https://${domain}/`).catch(() => undefined);
      return x?.status === 200 ? x : undefined;
    }, { timeoutMs: 90_000, intervalMs: 1000 });

    const deploy = async (to: string) => {
      if (name === 'naive') {
        tags.TAG = to;
        await composeOnHost(project, file, ['up', '-d', '--force-recreate'], tags);
        return;
      }
      const idle = live === 'blue' ? 'green' : 'blue';
      if (idle === 'blue') tags.BLUE_TAG = to;
      else tags.GREEN_TAG = to;
      await composeOnHost(project, file, ['up', '-d', '--wait', '--no-deps', `web-${idle}`], tags);
      await composeOnHost(project, file, ['stop', `web-${live}`], tags);
      live = idle;
    };
    await body(deploy, domain);
  } finally {
    await down().catch((e) => ctx.log(`cleanup of ${project} failed: ${(e as Error).message}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runBaseline(ctx: BenchContext, name: BaselineName) {
  const project = `bench-${name}`;
  await withBaseline(ctx, name, async (deploy, domain) => {
    const reps = ctx.reps(2);
    let current = 'v1';
    for (const rate of RATES) {
      for (const keepAlive of KEEP_ALIVE) {
        for (let i = 0; i < reps; i++) {
          const to = current === 'v1' ? 'v2' : 'v1';
          const t0 = Date.now();
          const { load, actionStartedAt, actionEndedAt } = await underLoad(`https://${domain}`, rate, keepAlive, () => deploy(to), { tailMs: 5000 });
          const healthy = healthyAt(project, `${IMAGE}:${to}`, t0, Date.now());
          const a = analyzeRun(load.samples, current, to, healthy);
          current = to;
          const key = `${rate}.${keepAlive ? 'ka' : 'noka'}`;
          ctx.rec.add(`failed.${name}.${key}`, `${name}: failed requests, ${rate}/s, keep-alive ${keepAlive ? 'on' : 'off'}`, 'count', a.failed);
          ctx.rec.add(`failed.${name}.${rate}`, `${name}: failed requests at ${rate}/s`, 'count', a.failed);
          ctx.rec.add(`mixed.start.${name}`, `${name}: mixed-version window, by request start`, 'ms', a.mixed.byStartMs);
          ctx.rec.add(`ready.${name}`, `${name}: ready-to-serving`, 'ms', a.readyToServingMs);
          const label = `${name} ${rate}/s keep-alive ${keepAlive ? 'on' : 'off'} #${i + 1}`;
          ctx.rec.run({ scenario: name, label, rate, keepAlive, to, actionMs: actionEndedAt - actionStartedAt, healthyAt: healthy, ...a });
          ctx.raw(`${name}-${rate}-${keepAlive ? 'ka' : 'noka'}-${i + 1}`, { healthyAt: healthy, samples: load.samples });
          ctx.log(`${label}: ${a.requests} requests, ${a.failed} failed ${JSON.stringify(a.failedByStatus)}, mixed(start) ${a.mixed.byStartMs.toFixed(0)} ms`);
          if (name === 'overlap') await sleep(500);
        }
      }
    }
  });
}
