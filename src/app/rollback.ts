// `berth rollback <app> [--to <release>]`: restore a recorded release's rendered files AND secret
// values from the host (not today's config), then the same health-gated, zero-loss switch.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../config/load.ts';
import { CommandError, StepError } from '../errors.ts';
import { filterHosts, type HostFilter } from '../config/host-filter.ts';
import { REGISTRY, retrying } from './retry.ts';
import { registryOf, shipsOverSsh } from '../config/registry.ts';
import { shipImage } from './ship-image.ts';
import { startColour, switchRouteWith } from '../exec/cutover.ts';
import { chainScripts, hostScripts, installStagedPart, type ScriptPart, scriptParts, splitLastThen, THEN_MARKER, thenOutput } from '../exec/host-scripts.ts';
import { orphanServices } from '../plan/orphans.ts';
import { restoreNote } from '../plan/restore-journal.ts';
import { composeEnvOf, fetchRelease, readReleasePart, secretSetEntries, secretValues, unpackRelease } from './release-files.ts';
import { SECRETS_ID_VAR, secretSetEnv } from '../plan/secret-sets.ts';
import { acquireLock } from '../exec/lock.ts';
import { formatSecretsEnv } from '../exec/secrets-file.ts';
import { containerFor, type CurrentRecord } from '../exec/state.ts';
import { type MemoryEntry, packUpload } from '../exec/transfer.ts';
import { prepareAssets } from '../exec/assets.ts';
import { assetPathOf, planAssets } from '../plan/assets-plan.ts';
import { isImageExecKey } from '../plan/secret-env.ts';
import { appProject, appSecretFile, appSecretsDir, appSecretsEnv, assetsVolumeDir, rollbackStageDir, currentFile, litestreamConfigPath, lockDir, retirePidFile, webService } from '../names.ts';
import { planRollback } from '../plan/deploy-plan.ts';
import { routingFile } from '../plan/types.ts';
import { findApp } from './app-context.ts';
import type { App } from '../config/schema.ts';
import { dockerCmd } from '../docker/argv.ts';
import type { ReleaseRecord } from '../exec/state.ts';
import { composeTarget, observeApp } from './app-on-host.ts';
import { type Deps, phases } from './deps.ts';
import { ensureDockerContext, type HostHandle, hostHandle, hostReachable, prepareSsh } from './host.ts';
import { readFile } from 'node:fs/promises';
import { audited } from './audit.ts';
import { releaseServices, restoreReleaseServices } from './release-services.ts';
import { rollbackServicesOnHost } from './rollback-services.ts';
import { placeApp } from '../plan/placement.ts';
import YAML from 'yaml';
import { parsedYaml } from '../plan/yaml.ts';

export interface RollbackOutcome {
  host: string;
  release: string;
  colour: string;
  reused: boolean;
  timings: Record<string, number>;
  /** Epoch ms when Traefik's API confirmed the switch. */
  switchedAt: number;
  /** Route written → Traefik's API reports it, measured on the host (per-host engine). */
  switchMs?: number;
  /** The release that was live before. */
  previous: string;
}

export async function rollback(deps: Deps, opts: { app: string; to?: string; only?: HostFilter }): Promise<RollbackOutcome[]> {
  const project = await loadProject(deps.root);
  const app = findApp(project, opts.app);
  // The cluster engine's modules load only for a cluster app.
  if (app.config.cluster) return (await import('../engine/swarm/index.ts')).swarmEngine.rollback(deps, project, app, { to: opts.to, only: opts.only });
  const placement = placeApp(app, project.hosts);
  // Web hosts first (the old code serves again), then hosts running only workers or accessories.
  const hostNames = filterHosts(app, project.hosts, opts.only).sort((a, b) => Number(!placement.on[a]?.web) - Number(!placement.on[b]?.web));
  const outcomes: RollbackOutcome[] = [];
  for (const name of hostNames) {
    const h = hostHandle(name, project.hosts[name]!);
    if (!placement.on[name]?.web) {
      if (!placement.on[name]?.workers.length) {
        deps.log.info(`${name}: runs only ${app.name}'s accessories, which a rollback never downgrades: left as it is`);
        continue;
      }
      await prepareSsh(deps.runner, h);
      const [, observed] = await Promise.all([ensureDockerContext(deps.runner, h), observeApp(deps, h, app.name)]);
      const o = await audited(deps, h, app.name, 'rollback', [], { release: opts.to ?? observed.current?.previous?.release ?? '?', previous: observed.current?.release }, () => rollbackServicesOnHost(deps, app, h, observed, opts.to));
      outcomes.push({ host: name, release: o.release, colour: '-', reused: false, timings: o.timings, switchedAt: Date.now(), previous: o.previous });
      continue;
    }
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
      return observeApp(deps, h, app.name);
    });
    // The Docker context is checked (a docker CLI start) only when a docker or compose command is
    // coming: a rollback to a colour that still runs healthy needs none.
    let contextReady: Promise<void> | undefined;
    const dockerContext = () => {
      contextReady ??= ensureDockerContext(deps.runner, h);
      contextReady.catch(() => {}); // awaited where it is needed; not an unhandled rejection meanwhile
      return contextReady;
    };
    if (state.restore) throw new StepError('rollback', `${name}: ${restoreNote(app.name, state.restore)}; then roll back (nothing was changed)`);
    const d = planRollback(state, opts.to);
    if (d.kind === 'refuse') throw new StepError('rollback', `${name}: ${d.reason}`);
    serving = d.live;
    const planned = { release: d.target.id, image: d.target.image, imageId: d.target.imageId, digest: d.target.digest, configHash: d.target.configHash, previous: d.live.release };
    outcomes.push(await audited(deps, h, app.name, 'rollback', [], planned, async (audit): Promise<RollbackOutcome> => {
      const idle = containerFor(state, webService(d.colour));
      const running = d.reuse && idle?.state === 'running';
      if (!running) void dockerContext();
      // The target colour's pending retire is cancelled (and the colour checked, when it still
      // runs) and the release's files are read, all in the lock's round trip.
      const pidfile = retirePidFile(app.name, d.colour);
      // current.json comes back with it: a deploy or rollback that finished between this command's
      // observation and its lock changed what serves, and the plan would act on the wrong colour.
      const cancel = scriptParts.withCurrent(currentFile(app.name), running ? scriptParts.cancelRetireAndCheck(pidfile, idle!.id) : scriptParts.cancelRetire(pidfile));
      const lock = await phase('lock', () => acquireLock(deps.runner, h.ssh, lockDir(app.name), `rollback ${app.name} to ${d.target.id}`, { host: name, app: app.name, now: deps.now(), then: chainScripts(readReleasePart(app.name, d.target.id), cancel) }));
      const read = lock.thenOutput === undefined ? undefined : splitLastThen(lock.thenOutput);
      const dir = await mkdtemp(join(tmpdir(), 'berth-rollback-'));
      // The history entry of a rollback that went through rides in the lock's release.
      let history: ReturnType<typeof audit.successPart> | undefined;
      let succeeded = false;
      try {
        const stored = await phase('restore files', () =>
          read ? unpackRelease(deps, h, app.name, d.target.id, read.first, dir) : fetchRelease(deps, h, app.name, d.target.id, dir),
        );
        // A release mounts its own secret set (named by its content, so never another release's
        // values): write it again in case it went missing; the live release's set is not touched.
        // A release from before sets reads the app's one folder of files: those are put back.
        const sets = SECRETS_ID_VAR in stored;
        const yml = await readFile(join(dir, 'compose.yml'), 'utf8');
        const secrets = sets ? { ...stored, ...secretSetEnv(secretValues(stored), yml) } : stored;
        const target = composeTarget(deps, h, app.name, composeEnvOf(secrets), dir);
        const secretEntries = sets ? secretSetEntries(app.name, secrets) : secretFileEntries(app.name, secrets);
        // A colour that still runs healthy (checked under the lock) has its secret files mounted and
        // starts nothing: they are written again in the record's round trip, one trip fewer. Any
        // other colour gets them before it starts. After a lock takeover the release was read on
        // its own: the retire is cancelled (and the colour checked) in this round trip instead.
        const reuseHealthy = running && read !== undefined && /^true healthy/m.test(read.then ?? '');
        const checked = reuseHealthy
          ? read!.then!
          : await phase('secret files', async () => {
              const r = await deps.runner.run(hostScripts.untar(h.ssh, read ? undefined : cancel), { stdinStream: packUpload(undefined, undefined, secretEntries) });
              return (read ? read.then : thenOutput(r.stdout)) ?? '';
            });
        const now = currentOf(checked);
        if (now?.release !== d.live.release || now.colour !== d.live.colour) {
          throw new StepError('rollback', `${name}: ${app.name} changed since this rollback looked (${now ? `${now.release} serves on ${now.colour} now` : 'its current.json is gone'}); nothing switched. Rerun the rollback.`);
        }
        const routing = await readFile(join(dir, routingFile(d.colour)), 'utf8');
        const port = portOf(routing, app.config.port);
        const cut = {
          runner: deps.runner, ssh: h.ssh, host: name, app: app.name, target, colour: d.colour, port, routing,
          healthTimeoutSeconds: app.config.deploy.health_timeout_seconds,
          previousRouting: await readFile(join(dir, routingFile(d.live.colour)), 'utf8').catch(() => undefined),
        };
        if (!running) await phase('image', async () => {
          await dockerContext();
          await ensureReleaseImage(deps, h, app, d.target, secrets, d.live);
        });
        // The release's own compose file says whether (and where) it mounts bridged assets: refresh
        // its merged directory so it also serves the assets of the release it replaces.
        const assetPath = assetPathOf(parsedYaml(yml) as Record<string, unknown>, assetsVolumeDir(app.name, ''));
        if (assetPath) {
          const sources = planAssets(state.releases, { tag: d.target.tag, image: d.target.image }, app.config.deploy.keep_releases, d.live.release);
          await phase('assets', () => prepareAssets(deps.runner, h.ssh, name, app.name, assetPath, sources));
        }
        await phase('start + health', async () => {
          // Inside the retire window the target still runs (its retire was cancelled and it was
          // checked under the lock, or in the secret files' trip): if healthy, skip compose.
          if (running && /^true healthy/m.test(checked)) return idle!.id;
          await dockerContext();
          return startColour(cut);
        });
        // What follows the switch is prepared before it, so the record's round trip leaves at once.
        const retire = d.live.containerId
          ? scriptParts.retireLater(d.live.containerId, d.live.colour, currentFile(app.name), retirePidFile(app.name, d.live.colour), app.config.deploy.retire_seconds, app.config.deploy.stop_timeout_seconds)
          : undefined;
        // Exactly the target's services: what only the release it replaces had (a worker, an
        // accessory) is stopped and removed, its volumes kept.
        const orphans = orphanServices(state.containers, yml);
        const removal = orphans.length ? scriptParts.removeServices(appProject(app.name), app.config.deploy.stop_timeout_seconds, orphans) : undefined;
        const services = releaseServices(yml);
        const ls = await readFile(join(dir, 'litestream.yml'), 'utf8').catch(() => undefined);
        // One round trip switches and records: the upload (the route, the live env file and
        // litestream.yml staged in a root-only directory; the secret set of a colour that started
        // nothing), the switch, and once Traefik confirmed it current.json and the env file, then
        // the staged files moved into place, the old colour's delayed stop, the removal and (with
        // nothing left to do under the lock) the lock's release with the history entry.
        const stage = rollbackStageDir(app.name);
        const staged = { route: `${stage}/route.yml`, env: `${stage}/secrets.env`, litestream: `${stage}/litestream.yml` };
        const current: CurrentRecord = { release: d.target.id, colour: d.colour, previous: { release: d.live.release, colour: d.live.colour }, switchedAt: deps.now().toISOString() };
        const upload: MemoryEntry[] = [
          ...(reuseHealthy ? secretEntries : [{ path: appSecretsDir(app.name), type: 'directory' as const, mode: 0o700 }]),
          { path: stage, type: 'directory', mode: 0o700 },
          { path: staged.route, content: routing, mode: 0o644 },
          { path: staged.env, content: formatSecretsEnv(secrets), mode: 0o600 },
          ...(ls ? [{ path: staged.litestream, content: ls, mode: 0o644 }] : []),
        ];
        const record = { currentPath: currentFile(app.name), current: JSON.stringify(current, null, 2) + '\n', envFrom: staged.env, envTo: appSecretsEnv(app.name) };
        const planned: RollbackOutcome = { host: name, release: d.target.id, colour: d.colour, reused: d.reuse, timings, switchedAt: 0, previous: d.live.release };
        if (!services.length) history = audit.successPart(planned);
        const finish = history ? lock.releasePart(history) : undefined;
        const install = installStagedPart(stage, ls ? [[staged.litestream, litestreamConfigPath(app.name)]] : []);
        const after = [retire, removal, finish].reduce<ScriptPart>((a, b) => (b ? chainScripts(a, b) : a), install);
        const sw = await phase(removal ? 'switch + record + retire + remove services' : 'switch + record + retire', () =>
          switchRouteWith({ ...cut, record }, packUpload(undefined, undefined, upload), staged.route, after),
        );
        switched = { release: d.target.id, colour: d.colour };
        const outcome: RollbackOutcome = { ...planned, switchedAt: Date.now(), switchMs: sw.ms };
        // The release part's output follows the marker that precedes "released" (or "not-ours").
        if (finish) audit.appended(lock.settled(new RegExp(`(?:^|\\n)${THEN_MARKER}\\n((?:released|not-ours)\\n[\\s\\S]*)$`).exec(sw.after ?? '')?.[1]));
        const removed = [...(sw.after ?? '').matchAll(/^removed (\S+)$/gm)].map((m) => m[1]!);
        if (removed.length) deps.log.info(`${name}: removed ${removed.join(', ')} (not in release ${d.target.id}; volumes kept)`);
        if (sw.afterExitCode !== 0) {
          throw new StepError('record + retire', `${name}: ${d.target.id} serves again on ${d.colour}, but what follows the switch failed (exit ${sw.afterExitCode}): ${(sw.after ?? '').trim().split('\n').pop() ?? ''}`);
        }
        // Workers, the replicator and backup loops come back to the release too (the replicator is
        // recreated when its litestream.yml differs: its compose label carries the file's hash).
        await phase('workers + replicator', async () => {
          if (!services.length) return;
          await dockerContext();
          await restoreReleaseServices(deps, target, yml);
        });
        deps.log.info(`${name}: ${app.name} rolled back to ${d.target.id} on ${d.colour}${d.reuse ? ' (reused the stopped/running container)' : ''}`);
        history ??= audit.successPart(outcome);
        succeeded = true;
        return outcome;
      } finally {
        // A no-op once the record's round trip released it.
        const appended = await lock.release(succeeded ? history : undefined);
        if (succeeded) audit.appended(appended);
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
  const reg = registryOf(app.config);
  const serving = `nothing switched, ${live.release} keeps serving on ${live.colour}`;
  if (!reg && shipsOverSsh(app.config)) {
    // registry: none — this machine's engine may still hold it (the local tag must still be that image).
    deps.log.warn(`${h.name}: image ${target.image} of release ${target.id} is missing; shipping it from this machine over SSH`);
    await shipImage(deps, [h], target.image, { expectId: target.imageId }).catch((e: Error) => {
      throw new StepError('rollback', `the image ${target.image} of release ${target.id} is missing on ${h.name} and shipping it from this machine failed (${e.message.split('\n')[0]}); ${serving}.`, {}, { cause: e });
    });
    return;
  }
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

/** The release and colour in force, from the "current …" line a withCurrent part printed. */
export function currentOf(output: string): { release?: string; colour?: string } | undefined {
  const line = /^current (\{.*\})$/m.exec(output)?.[1];
  try {
    return line ? (JSON.parse(line) as { release?: string; colour?: string }) : undefined;
  } catch {
    return undefined;
  }
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


/** A release from before secret sets: the app's one folder of files (mode 444 inside the 700 directory). */
export function secretFileEntries(app: string, values: Record<string, string>) {
  return Object.entries(values)
    .filter(([k]) => !isImageExecKey(k))
    .map(([k, v]) => ({ path: appSecretFile(app, k), content: v, mode: 0o444 }));
}
