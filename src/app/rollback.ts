// `berth rollback <app> [--to <release>]`: restore a recorded release's rendered files AND secret
// values from the host (not today's config), then the same health-gated, zero-loss switch.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../config/load.ts';
import { CommandError, StepError } from '../errors.ts';
import { filterHosts, type HostFilter } from '../config/host-filter.ts';
import { REGISTRY, retrying } from './retry.ts';
import { startColour, switchRoute } from '../exec/cutover.ts';
import { hostScripts, scriptParts, thenOutput } from '../exec/host-scripts.ts';
import { fetchRelease, readReleasePart, unpackRelease } from './release-files.ts';
import { acquireLock } from '../exec/lock.ts';
import { formatSecretsEnv } from '../exec/secrets-file.ts';
import { containerFor, type CurrentRecord } from '../exec/state.ts';
import { packUpload } from '../exec/transfer.ts';
import { prepareAssets } from '../exec/assets.ts';
import { assetPathOf, planAssets } from '../plan/assets-plan.ts';
import { isImageExecKey } from '../plan/secret-env.ts';
import { appSecretFile, appSecretsEnv, assetsVolumeDir, currentFile, litestreamConfigPath, lockDir, retirePidFile, webService } from '../names.ts';
import { planRollback } from '../plan/deploy-plan.ts';
import { routingFile } from '../plan/types.ts';
import { findApp } from './app-context.ts';
import type { App } from '../config/schema.ts';
import { dockerCmd } from '../docker/argv.ts';
import type { ReleaseRecord } from '../exec/state.ts';
import { composeTarget, observeApp } from './deploy.ts';
import { type Deps, phases } from './deps.ts';
import { ensureDockerContext, type HostHandle, hostHandle, hostReachable, prepareSsh } from './host.ts';
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

export async function rollback(deps: Deps, opts: { app: string; to?: string; only?: HostFilter }): Promise<RollbackOutcome[]> {
  const project = await loadProject(deps.root);
  const app = findApp(project, opts.app);
  const hostNames = filterHosts(app, project.hosts, opts.only);
  const outcomes: RollbackOutcome[] = [];
  for (const name of hostNames) {
    const h = hostHandle(name, project.hosts[name]!);
    let switched: { release: string; colour: string } | undefined;
    let serving: { release: string; colour: string } | undefined;
    const { timings, phase } = phases(deps.log, name, {
      reachable: () => hostReachable(deps.runner, h),
      leftState: () =>
        switched
          ? `Release ${switched.release} is live again on ${switched.colour}; rerun the rollback to record it and retire the other colour.`
          : serving
            ? `Nothing switched: ${serving.release} keeps serving on ${serving.colour}. Rerun the rollback when the host answers.`
            : 'Nothing was changed.',
    });
    const state = await phase('observe', async () => {
      await prepareSsh(deps.runner, h);
      const [, observed] = await Promise.all([ensureDockerContext(deps.runner, h), observeApp(deps, h, app.name)]);
      return observed;
    });
    const d = planRollback(state, opts.to);
    if (d.kind === 'refuse') throw new StepError('rollback', `${name}: ${d.reason}`);
    serving = d.live;
    const planned = { release: d.target.id, image: d.target.image, imageId: d.target.imageId, digest: d.target.digest, configHash: d.target.configHash, previous: d.live.release };
    outcomes.push(await audited(deps, h, app.name, 'rollback', [], planned, async (): Promise<RollbackOutcome> => {
      // The release's files are read in the lock's round trip.
      const lock = await phase('lock', () => acquireLock(deps.runner, h.ssh, lockDir(app.name), `rollback ${app.name} to ${d.target.id}`, { host: name, app: app.name, now: deps.now(), then: readReleasePart(app.name, d.target.id) }));
      const dir = await mkdtemp(join(tmpdir(), 'berth-rollback-'));
      try {
        const secrets = await phase('restore files', () =>
          lock.thenOutput !== undefined ? unpackRelease(deps, h, app.name, d.target.id, lock.thenOutput, dir) : fetchRelease(deps, h, app.name, d.target.id, dir),
        );
        const target = composeTarget(deps, h, app.name, secrets, dir);
        const idle = containerFor(state, webService(d.colour));
        const running = d.reuse && idle?.state === 'running';
        // The secret files the wrapper reads are per app: put back the values this release ran with.
        // The same round trip cancels the target colour's retire (and checks it, when it still runs).
        const pidfile = retirePidFile(app.name, d.colour);
        const secretFiles = await phase('secret files', () =>
          deps.runner.run(hostScripts.untar(h.ssh, running ? scriptParts.cancelRetireAndCheck(pidfile, idle!.id) : scriptParts.cancelRetire(pidfile)), {
            stdinStream: packUpload(undefined, undefined, secretFileEntries(app.name, secrets)),
          }),
        );
        const routing = await readFile(join(dir, routingFile(d.colour)), 'utf8');
        const port = portOf(routing, app.config.port);
        const cut = {
          runner: deps.runner, ssh: h.ssh, host: name, app: app.name, target, colour: d.colour, port, routing,
          healthTimeoutSeconds: app.config.deploy.health_timeout_seconds,
          previousRouting: await readFile(join(dir, routingFile(d.live.colour)), 'utf8').catch(() => undefined),
        };
        if (!running) await phase('image', () => ensureReleaseImage(deps, h, app, d.target, secrets, d.live));
        // The release's own compose file says whether (and where) it mounts bridged assets: refresh
        // its merged directory so it also serves the assets of the release it replaces.
        const assetPath = assetPathOf(YAML.parse(await readFile(join(dir, 'compose.yml'), 'utf8')) as Record<string, unknown>, assetsVolumeDir(app.name, ''));
        if (assetPath) {
          const sources = planAssets(state.releases, { tag: d.target.tag, image: d.target.image }, app.config.deploy.keep_releases, d.live.release);
          await phase('assets', () => prepareAssets(deps.runner, h.ssh, name, app.name, assetPath, sources));
        }
        await phase('start + health', async () => {
          // Inside the retire window the target still runs (its retire was cancelled and it was
          // checked with the secret files): if healthy, skip compose.
          if (running && /^true healthy/m.test(thenOutput(secretFiles.stdout) ?? '')) return idle!.id;
          return startColour(cut);
        });
        await phase('switch', () => switchRoute(cut));
        switched = { release: d.target.id, colour: d.colour };
        const switchedAt = Date.now();
        const retire = d.live.containerId
          ? scriptParts.retireLater(d.live.containerId, d.live.colour, currentFile(app.name), retirePidFile(app.name, d.live.colour), app.config.deploy.retire_seconds, app.config.deploy.stop_timeout_seconds)
          : undefined;
        // The record and the old colour's delayed stop go in one round trip.
        await phase('record + retire', async () => {
          const current: CurrentRecord = { release: d.target.id, colour: d.colour, previous: { release: d.live.release, colour: d.live.colour }, switchedAt: deps.now().toISOString() };
          const extra = [
            { path: currentFile(app.name), content: JSON.stringify(current, null, 2) + '\n', mode: 0o644 },
            { path: appSecretsEnv(app.name), content: formatSecretsEnv(secrets), mode: 0o600 },
          ];
          const ls = await readFile(join(dir, 'litestream.yml'), 'utf8').catch(() => undefined);
          if (ls) extra.push({ path: litestreamConfigPath(app.name), content: ls, mode: 0o644 });
          await deps.runner.run(hostScripts.untar(h.ssh, retire), { stdinStream: packUpload(undefined, undefined, extra) });
        });
        // Workers, the replicator and backup loops come back to the release too (the replicator is
        // recreated when its litestream.yml differs: its compose label carries the file's hash).
        await phase('workers + replicator', () => restoreReleaseServices(deps, target, readFileSync(join(dir, 'compose.yml'), 'utf8')));
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

/**
 * The release's image must be on the host before its colour starts: a pruned image is pulled again
 * when the app has a registry, otherwise the rollback stops here saying so (not as a health failure).
 */
async function ensureReleaseImage(deps: Deps, h: HostHandle, app: App, target: ReleaseRecord, secrets: Record<string, string>, live: { release: string; colour: string }) {
  const present = await deps.runner.run(dockerCmd.imageInspect(h.context, target.image), { allowFailure: true });
  if (present.exitCode === 0) return;
  const reg = app.config.registry;
  const serving = `nothing switched, ${live.release} keeps serving on ${live.colour}`;
  if (!reg) {
    throw new StepError('rollback', `the image ${target.image} of release ${target.id} is missing on ${h.name} (removed or pruned) and ${app.file} names no registry to pull it from; ${serving}. Put the image back on the host (docker load / build) and rerun.`);
  }
  deps.log.warn(`${h.name}: image ${target.image} of release ${target.id} is missing; pulling it from ${reg.server}`);
  const password = secrets[reg.password_secret] ?? deps.env[`BERTH_SECRET_${reg.password_secret}`] ?? deps.env[reg.password_secret];
  if (password) await deps.runner.run(dockerCmd.login(h.context, reg.server, reg.username, password));
  await retrying(deps.log, `${h.name}: pull ${target.image}`, REGISTRY, () => deps.runner.run(dockerCmd.pull(h.context, target.image))).catch((e: Error) => {
    const why = (e instanceof CommandError ? e.stderr : e.message).trim().split('\n').pop();
    throw new StepError('rollback', `the image ${target.image} of release ${target.id} is missing on ${h.name} and pulling it from ${reg.server} failed (${why}); ${serving}.`);
  });
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


/** The secret files of an app (mode 444 inside the 700 directory: readable by a non-root process in the container). */
export function secretFileEntries(app: string, values: Record<string, string>) {
  return Object.entries(values)
    .filter(([k]) => !isImageExecKey(k))
    .map(([k, v]) => ({ path: appSecretFile(app, k), content: v, mode: 0o444 }));
}
