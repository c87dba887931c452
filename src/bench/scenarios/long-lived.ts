// What a switch does to a browser that is already there: 20 WebSockets and an SSE stream opened on
// the old release, and the old page's fingerprinted assets fetched right after the switch. Berth
// (asset_path, retire window) against the naive and overlap baselines, same app, same edge.
import type { BenchContext } from '../context.ts';
import { makeProject, resetApps, sleep, timedBerth } from '../env.ts';
import { httpsRequest, waitFor } from '../../sandbox/http.ts';
import { followSse, openSockets } from '../../sandbox/streams.ts';
import { type BaselineName, withBaseline } from './baselines.ts';

export const ZDT_APP = 'benchzdt';
const SOCKETS = 20;
/** The window every system is judged against: Berth's retire_seconds for this app. */
export const RETIRE_S = 5;
const STOP_S = 10;

type System = 'berth' | BaselineName;
const NAME: Record<System, string> = { berth: 'Berth', naive: 'naive', overlap: 'overlap' };

export interface SwitchProbe {
  /** Sockets closed before the deploy returned + RETIRE_S (Berth promises none). */
  cut: number;
  codes: Record<string, number>;
  /** Old-page asset URLs not answered 200 right after the switch (404, or no answer: status 0), of `assets`. */
  asset404: number;
  assets: number;
  /** The SSE stream ended before the window, or ended unclean. */
  sseCut: boolean;
}

/** Summarize one switch (PURE): what ended before `windowEnd`, and how. */
export function judgeProbe(closes: ({ at: number; code: number } | undefined)[], windowEnd: number, assetStatuses: number[], sse: { at: number; clean: boolean } | undefined): SwitchProbe {
  const codes: Record<string, number> = {};
  for (const c of closes) {
    const k = c ? String(c.code) : 'open';
    codes[k] = (codes[k] ?? 0) + 1;
  }
  return {
    cut: closes.filter((c) => c && c.at < windowEnd).length,
    codes,
    asset404: assetStatuses.filter((s) => s !== 200).length,
    assets: assetStatuses.length,
    sseCut: !!sse && (sse.at < windowEnd || !sse.clean),
  };
}

const assetsOf = (html: string) => [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);

/**
 * `deploy` resolves to the moment traffic switched when the system says so (Berth's confirmed
 * switch; the retire window counts from it), else the window counts from the deploy's return.
 */
async function probeSwitch(domain: string, deploy: () => Promise<number | void>): Promise<SwitchProbe> {
  // A baseline's route can lag behind its last recreate (Traefik's Docker provider): start from a served page.
  const page = await waitFor(`${domain}/page answered 200`, async () => {
    const r = await httpsRequest(`https://${domain}/page`, { timeoutMs: 5000 }).catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 });
  const assets = assetsOf(page.body);
  const sockets = await openSockets(`wss://${domain}/ws`, SOCKETS, 1000);
  const sse = followSse(`https://${domain}/sse?interval_ms=250`, (RETIRE_S + STOP_S + 40) * 1000);
  try {
    const switchedAt = await deploy();
    const from = typeof switchedAt === 'number' ? switchedAt : Date.now();
    const statuses: number[] = [];
    // A baseline may route to a container that is gone: no answer within 5 s counts as a failure (0).
    for (const a of assets) statuses.push(await httpsRequest(`https://${domain}${a}`, { timeoutMs: 5000 }).then((r) => r.status, () => 0));
    await Promise.race([sockets.closed, sleep((RETIRE_S + STOP_S + 20) * 1000)]);
    await Promise.race([sse.ended, sleep(5000)]);
    return judgeProbe(sockets.probes.map((p) => p.close), from + RETIRE_S * 1000, statuses, sse.end);
  } finally {
    sockets.stop();
    sse.stop();
  }
}

function record(ctx: BenchContext, system: System, i: number, r: SwitchProbe) {
  const n = NAME[system];
  ctx.rec.add(`ws.cut.${system}`, `${n}: WebSockets cut before the retire window (of ${SOCKETS})`, 'count', r.cut);
  ctx.rec.add(`sse.cut.${system}`, `${n}: SSE streams cut before the retire window (of 1)`, 'count', r.sseCut ? 1 : 0);
  ctx.rec.add(`assets404.${system}`, `${n}: old-page assets failing after a switch (404 or no answer, of ${r.assets})`, 'count', r.asset404);
  const codes = Object.entries(r.codes).map(([c, k]) => `${c}×${k}`).join(' ');
  const note = `WebSocket close codes (${n}, run ${i + 1}): ${codes}`;
  ctx.rec.notes.push(note);
  ctx.rec.run({ scenario: 'long-lived', system, ...r });
  ctx.log(`${n} #${i + 1}: ${r.cut}/${SOCKETS} sockets cut early, codes ${codes}, SSE cut ${r.sseCut}, assets failing ${r.asset404}/${r.assets}`);
}

export async function runLongLived(ctx: BenchContext) {
  const reps = ctx.reps(2, 1);
  // Berth, with asset bridging and the retire window.
  resetApps([ZDT_APP]);
  const p = makeProject('berth-bench-zdt-');
  try {
    p.writeApp(ZDT_APP, {
      image: 'berth/testapp', // v1 and v2 are on the host: hot deploys
      hosts: ['h1'],
      domains: [`${ZDT_APP}.berth.test`],
      port: 80,
      healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
      asset_path: '/app/public/assets',
      deploy: { retire_seconds: RETIRE_S, stop_timeout_seconds: STOP_S, health_timeout_seconds: 30 },
    });
    await timedBerth(p, 'setup', ['h1']);
    let live = 'v1';
    const deploy = async (to: string) => {
      const { r } = await timedBerth(p, 'deploy', [ZDT_APP, '--release', to, '--json']);
      if (r.code !== 0) throw new Error(`deploy ${to} failed: ${r.stderr.slice(-500)}`);
      live = to;
      return (JSON.parse(r.stdout) as { switchedAt?: number }[])[0]?.switchedAt;
    };
    await deploy('v1');
    await waitFor(`${ZDT_APP} over HTTPS`, async () => (await httpsRequest(`https://${ZDT_APP}.berth.test/`).catch(() => undefined))?.status === 200, { timeoutMs: 90_000, intervalMs: 1000 });
    for (let i = 0; i < reps; i++) record(ctx, 'berth', i, await probeSwitch(`${ZDT_APP}.berth.test`, () => deploy(live === 'v1' ? 'v2' : 'v1')));
  } finally {
    resetApps([ZDT_APP]);
    p.cleanup();
  }
  for (const name of ['naive', 'overlap'] as const) {
    await withBaseline(ctx, name, async (deploy, domain) => {
      let live = 'v1';
      for (let i = 0; i < reps; i++) {
        const to = live === 'v1' ? 'v2' : 'v1';
        record(ctx, name, i, await probeSwitch(domain, () => deploy(to)));
        live = to;
      }
    });
  }
}
