// `berth rollback <app> [--to <release>]`: restore a recorded release's rendered files AND secret
// values from the host (not today's config), then the same health-gated, zero-loss switch.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../config/load.ts';
import { selectHosts } from '../config/rules.ts';
import { StepError } from '../errors.ts';
import { startColour, switchRoute } from '../exec/cutover.ts';
import { hostScripts } from '../exec/host-scripts.ts';
import { fetchRelease } from './release-files.ts';
import { acquireLock } from '../exec/lock.ts';
import { formatSecretsEnv } from '../exec/secrets-file.ts';
import { containerFor, type CurrentRecord } from '../exec/state.ts';
import { packUpload } from '../exec/transfer.ts';
import { appSecretsEnv, currentFile, litestreamConfigPath, lockDir, retirePidFile, webService } from '../names.ts';
import { planRollback } from '../plan/deploy-plan.ts';
import { routingFile } from '../plan/types.ts';
import { findApp } from './app-context.ts';
import { composeTarget, observeApp } from './deploy.ts';
import { type Deps, phases } from './deps.ts';
import { ensureContext, hostHandle } from './host.ts';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { audited } from './audit.ts';
import { restoreReleaseServices } from './release-services.ts';
import YAML from 'yaml';

export interface RollbackOutcome {
  host: string;
  release: string;
  colour: string;
  reused: boolean;
  timings: Record<string, number>;
  /** Epoch ms when Traefik's API confirmed the switch. */
  switchedAt: number;
  /** The release that was live before. */
  previous: string;
}

export async function rollback(deps: Deps, opts: { app: string; to?: string }): Promise<RollbackOutcome[]> {
  const project = await loadProject(deps.root);
  const app = findApp(project, opts.app);
  const hostNames = selectHosts(app, project.hosts);
  const outcomes: RollbackOutcome[] = [];
  for (const name of hostNames) {
    const h = hostHandle(name, project.hosts[name]!);
    const { timings, phase } = phases(deps.log, name);
    const state = await phase('observe', async () => {
      await ensureContext(deps.runner, h);
      return observeApp(deps, h, app.name);
    });
    const d = planRollback(state, opts.to);
    if (d.kind === 'refuse') throw new StepError('rollback', `${name}: ${d.reason}`);
    const planned = { release: d.target.id, image: d.target.image, imageId: d.target.imageId, digest: d.target.digest, configHash: d.target.configHash, previous: d.live.release };
    outcomes.push(await audited(deps, h, app.name, 'rollback', [], planned, async (): Promise<RollbackOutcome> => {
      const lock = await phase('lock', () => acquireLock(deps.runner, h.ssh, lockDir(app.name), `rollback ${app.name} to ${d.target.id}`, { host: name, app: app.name, now: deps.now() }));
      const dir = await mkdtemp(join(tmpdir(), 'berth-rollback-'));
      try {
        const secrets = await phase('restore files', () => fetchRelease(deps, h, app.name, d.target.id, dir));
        const target = composeTarget(deps, h, app.name, secrets, dir);
        const routing = await readFile(join(dir, routingFile(d.colour)), 'utf8');
        const port = portOf(await readFile(join(dir, routingFile(d.colour)), 'utf8'), app.config.port);
        const cut = {
          runner: deps.runner, ssh: h.ssh, host: name, app: app.name, target, colour: d.colour, port, routing,
          healthTimeoutSeconds: app.config.deploy.health_timeout_seconds,
          previousRouting: await readFile(join(dir, routingFile(d.live.colour)), 'utf8').catch(() => undefined),
        };
        await phase('start + health', async () => {
          // Inside the retire window the target still runs: cancel its retire, check it, skip compose.
          const idle = containerFor(state, webService(d.colour));
          if (d.reuse && idle?.state === 'running') {
            const check = await deps.runner.run(hostScripts.cancelRetireAndCheck(h.ssh, retirePidFile(app.name, d.colour), idle.id));
            if (/^true healthy/m.test(check.stdout)) return idle.id;
          } else {
            await deps.runner.run(hostScripts.cancelRetire(h.ssh, retirePidFile(app.name, d.colour)));
          }
          return startColour(cut);
        });
        await phase('switch', () => switchRoute(cut));
        const switchedAt = Date.now();
        await phase('record', async () => {
          const current: CurrentRecord = { release: d.target.id, colour: d.colour, previous: { release: d.live.release, colour: d.live.colour }, switchedAt: deps.now().toISOString() };
          const extra = [
            { path: currentFile(app.name), content: JSON.stringify(current, null, 2) + '\n', mode: 0o644 },
            { path: appSecretsEnv(app.name), content: formatSecretsEnv(secrets), mode: 0o600 },
          ];
          const ls = await readFile(join(dir, 'litestream.yml'), 'utf8').catch(() => undefined);
          if (ls) extra.push({ path: litestreamConfigPath(app.name), content: ls, mode: 0o644 });
          await deps.runner.run(hostScripts.untar(h.ssh), { stdinStream: packUpload(undefined, undefined, extra) });
        });
        // Workers, the replicator and backup loops come back to the release too (the replicator is
        // recreated when its litestream.yml differs: its compose label carries the file's hash).
        await phase('workers + replicator', () => restoreReleaseServices(deps, target, readFileSync(join(dir, 'compose.yml'), 'utf8')));
        if (d.live.containerId) {
          await phase('retire', () => deps.runner.run(hostScripts.retireLater(h.ssh, d.live.containerId!, d.live.colour, currentFile(app.name), retirePidFile(app.name, d.live.colour), app.config.deploy.retire_seconds, app.config.deploy.stop_timeout_seconds)));
        }
        deps.log.info(`${name}: ${app.name} rolled back to ${d.target.id} on ${d.colour}${d.reuse ? ' (reused the stopped/running container)' : ''}`);
        return { host: name, release: d.target.id, colour: d.colour, reused: d.reuse, timings, switchedAt, previous: d.live.release };
      } finally {
        await lock.release();
        await rm(dir, { recursive: true, force: true });
      }
    }));
  }
  return outcomes;
}

/** The container port a routing file points at (the old release may have used another port). */
function portOf(routing: string, fallback: number): number {
  const doc = YAML.parse(routing) as { http?: { services?: Record<string, { loadBalancer?: { servers?: { url: string }[] } }> } };
  for (const s of Object.values(doc?.http?.services ?? {})) {
    const url = s.loadBalancer?.servers?.[0]?.url;
    const m = url ? /:(\d+)\/?$/.exec(url) : null;
    if (m) return Number(m[1]);
  }
  return fallback;
}

