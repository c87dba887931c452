// `berth deploy <app>`: validate → render → image → (per host) observe → lock → upload → release
// command → start idle colour → health gate → switch → record → retire old colour.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parsedYaml } from '../plan/yaml.ts';
import type { App, Project } from '../config/schema.ts';
import { compose, type ComposeTarget, dockerCmd } from '../docker/argv.ts';
import { splitCommand } from '../docker/command.ts';
import { hostScripts, type ScriptPart, scriptParts } from '../exec/host-scripts.ts';
import { acquireLock } from '../exec/lock.ts';
import { startColour, switchRoute } from '../exec/cutover.ts';
import { prepareAssets } from '../exec/assets.ts';
import { planAssets } from '../plan/assets-plan.ts';
import { formatSecretsEnv } from '../exec/secrets-file.ts';
import { parseObservation, type CurrentRecord, type ReleaseRecord } from '../exec/state.ts';
import { packUpload, type MemoryEntry } from '../exec/transfer.ts';
import {
  accessoryFileHostPath,
  appProject,
  appSecretsDir,
  appSecretsEnv,
  type Colour,
  currentFile,
  EDGE_ACME_STORAGE,
  fleetCertDynamicFile,
  fleetCertHostFiles,
  litestreamConfigPath,
  lockDir,
  originCertHostFiles,
  releaseDir,
  releaseSecretsEnv,
  RELEASE_SERVICE,
  retirePidFile,
  webService,
} from '../names.ts';
import { planDeploy, releaseId, type Repair } from '../plan/deploy-plan.ts';
import { type FleetCertificate, findStoredCertificate, fleetCertificate, renderFleetCertificate } from '../plan/fleet-certificate.ts';
import { filesFor, routingFile, type AppRender, type RenderedFile } from '../plan/types.ts';
import { accessoryEndpoint, describePlacement, placeApp, type Placement, sharedAccessories } from '../plan/placement.ts';
import { planRollout } from '../plan/rollout-order.ts';
import { AccessoriesReady } from './accessory-ready.ts';
import { reachScripts } from '../exec/reach-scripts.ts';
import { deployServicesToHost } from './deploy-services.ts';
import { type Deps, phases } from './deps.ts';
import { ensureDockerContext, type HostHandle, hostHandle, hostReachable, prepareSsh } from './host.ts';
import { hostReleaseDir, loadAppContext, runHook } from './app-context.ts';
import { backupPreflight } from './backup-preflight.ts';
import { imageExecOnHost } from './image-exec.ts';
import { imageExecEnv, lacksShell, noShellMessage } from '../plan/secret-env.ts';
import { SECRETS_ID_VAR, secretSetEnv } from '../plan/secret-sets.ts';
import { composeEnvOf, fetchRelease, secretSetEntries } from './release-files.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { startReleaseServices } from './start.ts';
import { orphanServices } from '../plan/orphans.ts';
import { restoreNote } from '../plan/restore-journal.ts';
import { REGISTRY, retrying } from './retry.ts';
import { tlsPreflight } from './tls-preflight.ts';
import { StepError } from '../errors.ts';
import { filterHosts, type HostFilter } from '../config/host-filter.ts';
import { stripAnsi } from '../log/ansi.ts';
import { type Audit, audited } from './audit.ts';
import { pruneAfterDeploy } from './prune.ts';
import { afterDeploy } from '../plan/prune-plan.ts';
import { type FleetHostState, formatFleetReport } from '../plan/fleet-report.ts';
import { ReleaseGate, releaseScope } from './release-gate.ts';
import { swarmEngine } from '../engine/swarm/index.ts';
import { keepMaintenance } from './maintenance.ts';
import { registryOf, shipsOverSsh } from '../config/registry.ts';
import { shipImage } from './ship-image.ts';
import { appObservation, composeTarget, observeApp } from './app-on-host.ts';
import { byText } from '../text-order.ts';

export interface DeployOptions {
  app: string;
  release?: string;
  /** Skip the image step (benchmarks of hot deploys may still want it: default false). */
  skipImage?: boolean;
  /** --hosts / --roles: deploy to these of the app's hosts only. */
  only?: HostFilter;
}

export interface HostOutcome {
  host: string;
  /** dry-run: reads ran, every write and start was printed instead. */
  result: 'noop' | 'deployed' | 'dry-run';
  release: string;
  /** The live web colour (absent on a host that runs no web). */
  colour?: Colour;
  timings: Record<string, number>;
  switchMs?: number;
  /** Epoch ms when Traefik's API confirmed the new colour (load tests compare request start times). */
  switchedAt?: number;
  /** What was recorded on the host (deployed only). */
  record?: ReleaseRecord;
}

export async function deploy(deps: Deps, opts: DeployOptions): Promise<HostOutcome[]> {
  const ctx = await loadAppContext(deps, opts.app, opts.release);
  const { project, app, render, secrets, composeDir } = ctx;
  try {
    // A pulled image's id joins the release id per host (observed in the same round trip).
    const id = releaseId(render.release, render.configHash);
    deps.log.info(`release ${id}${app.config.build ? '' : '-<image id>'}: ${render.image} → ${render.hosts.join(', ')} (${app.config.domains.join(', ') || 'no domains'})`);
    // A cluster app runs on its engine (src/engine); loading, rendering and secrets are shared.
    if (app.config.cluster) return await swarmEngine.deploy(deps, ctx, opts, () => prepareImageLocally(deps, app, render, secrets));
    // The release's secret set (secret-sets.ts): its id is the secrets hash a no-op compares.
    const setEnv = secretSetEnv(secrets, (render.hostFiles ? Object.values(render.hostFiles) : [render.files]).map((files) => fileOf({ files }, 'compose.yml')));
    const secretsHash = setEnv[SECRETS_ID_VAR]!;

    const only = filterHosts(app, project.hosts, opts.only);
    const hosts = render.hosts.filter((n) => only.includes(n)).map((n) => hostHandle(n, project.hosts[n]!));
    const placement = render.placement ?? placeApp(app, project.hosts);
    // Certificates and routes only where web runs.
    await tlsPreflight(deps, project, app, placement.web);
    if (!opts.skipImage) await prepareImageLocally(deps, app, render, secrets);
    if (!placement.uniform) for (const line of describePlacement(placement)) deps.log.info(`placement ${line}`);

    // One certificate for the fleet: the issuer (first by name) orders it and deploys alone first;
    // every other host gets the issuer's certificate before its route is written, so its Traefik
    // never orders one.
    const shared = fleetCertificate(app, project.edge, placement.web);
    const byName = new Map(hosts.map((h) => [h.name, h]));
    const releaseGate = new ReleaseGate(releaseScope(app.config.per_host_volumes));
    // Shared accessories first (their hosts lead; the hosts reaching them wait until they are up).
    const rollout = planRollout(placement, hosts.map((h) => h.name), app.config.deploy.batch_size, shared?.issuer);
    const accessoriesReady = new AccessoriesReady(rollout.providers);
    const outcomes: HostOutcome[] = [];
    for (const batch of rollout.batches) {
      for (const name of batch) accessoriesReady.start(name);
      const settled = await Promise.allSettled(
        batch.map(async (name) => {
          const h = byName.get(name)!;
          const job = {
            project, app, render, secrets, setEnv, id, secretsHash, h, skipImage: !!opts.skipImage, releaseGate,
            composeDir: hostReleaseDir(composeDir, render, name), files: filesFor(render, name),
            placement, needs: rollout.needs[name] ?? [], accessoriesReady,
          };
          try {
            if (shared && h.name !== shared.issuer && placement.on[name]?.web) await shareCertificate(deps, app, shared, hostHandle(shared.issuer, project.hosts[shared.issuer]!), h);
            const run = placement.on[name]?.web ? (audit: Audit) => deployToHost(deps, job, audit) : () => deployServicesToHost(deps, job, SERVICE_STEPS);
            return await audited(deps, h, app.name, 'deploy', Object.values(secrets), { release: id, image: render.image, configHash: render.configHash }, run);
          } catch (err) {
            accessoriesReady.settle(name, err);
            throw err;
          } finally {
            accessoriesReady.settle(name);
          }
        }),
      );
      for (const s of settled) if (s.status === 'fulfilled') outcomes.push(s.value);
      const failed = batch.filter((_, j) => settled[j]!.status === 'rejected');
      if (!failed.length) continue;
      const err = (settled.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
      // Several hosts: say exactly which host runs which release now (a rerun converges).
      if (hosts.length === 1) throw err;
      throw new StepError('deploy', await fleetState(deps, app.name, id, hosts, outcomes, failed, err), { app: app.name }, { cause: err });
    }
    return outcomes;
  } finally {
    await ctx.cleanup();
  }
}

/** After hosts failed: what every host of the app runs now (the failed and untried ones are read again). */
async function fleetState(deps: Deps, app: string, id: string, hosts: HostHandle[], done: HostOutcome[], failed: string[], err: unknown): Promise<string> {
  const states: FleetHostState[] = [];
  for (const h of hosts) {
    const o = done.find((d) => d.host === h.name);
    if (o) {
      states.push({ host: h.name, live: o.release, colour: o.colour, outcome: o.result });
      continue;
    }
    const outcome = failed.includes(h.name) ? 'failed' : 'not attempted';
    try {
      const s = await observeApp(deps, h, app);
      states.push({ host: h.name, live: s.current?.release, colour: s.current?.colour, outcome });
    } catch (e) {
      states.push({ host: h.name, outcome, unknown: `unreachable: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  return formatFleetReport(app, id, failed.join(', '), reason, states);
}

/** Wait for the issuer's certificate (acme.json over SSH; never logged) and install it on `to`. */
async function shareCertificate(deps: Deps, app: App, shared: FleetCertificate, issuer: HostHandle, to: HostHandle): Promise<void> {
  const end = deps.log.step(`${to.name}: certificate from ${issuer.name}`);
  const deadline = Date.now() + CERT_WAIT_MS;
  let found: { cert: string; key: string } | undefined;
  for (let i = 0; i < CERT_WAIT_MS / 1000 + 1 && Date.now() < deadline; i++) {
    const r = await deps.runner.run(hostScripts.run(issuer.ssh, 'cat "$1" 2>/dev/null || true', [EDGE_ACME_STORAGE], false), { allowFailure: true });
    found = findStoredCertificate(r.stdout, shared.resolver, shared.domains);
    if (found) break;
    await new Promise((res) => setTimeout(res, 1000));
  }
  if (!found) {
    end('not found');
    throw new StepError(
      'certificate',
      `${issuer.name} holds no certificate for ${shared.domains.join(', ')} after ${CERT_WAIT_MS / 1000}s (resolver ${shared.resolver}); ` +
        `${to.name} was not changed, so it does not order a duplicate. Check the issuer's Traefik log, then deploy again.`,
      { app: app.name, host: to.name },
    );
  }
  deps.log.addSecrets([found.key]);
  const files = fleetCertHostFiles(app.name);
  const stream = packUpload(undefined, undefined, [
    { path: files.cert, content: found.cert, mode: 0o644 },
    { path: files.key, content: found.key, mode: 0o600 },
    { path: fleetCertDynamicFile(app.name), content: renderFleetCertificate(app, found.cert), mode: 0o644 },
  ]);
  await deps.runner.run(hostScripts.untar(to.ssh), { stdinStream: stream });
  end();
}

/** How long the other hosts wait for the issuer's first order (DNS-01 takes seconds to a few minutes). */
const CERT_WAIT_MS = 180_000;

export interface HostJob {
  project: Project;
  app: App;
  render: AppRender;
  secrets: Record<string, string>;
  /** Interpolation values naming the release's secret sets (BERTH_SECRETS_ID…). */
  setEnv: Record<string, string>;
  id: string;
  secretsHash: string;
  h: HostHandle;
  skipImage: boolean;
  /** Local directory of the rendered release that is uploaded and run (this host's part). */
  composeDir: string;
  /** What this host's release folder holds (its compose.yml, litestream.yml, routing files). */
  files: RenderedFile[];
  /** Where the release command runs: once per deploy, or on every host (release-gate.ts). */
  releaseGate: ReleaseGate;
  placement: Placement;
  /** Hosts whose shared accessories this host reaches (waited for before its release command and start). */
  needs: string[];
  accessoriesReady: AccessoriesReady;
}

/**
 * The one observation of an app on a host (state, route, the image's id when `image` is given, and
 * the hash of the files of the secret set `secretSet` when given).
 */
async function deployToHost(deps: Deps, hostJob: HostJob, audit?: Audit): Promise<HostOutcome> {
  const { h, app, render } = hostJob;
  const pulled = !app.config.build;
  let id = hostJob.id;
  // What a lost connection leaves behind, by how far the deploy got (for the error message).
  let progress: { live?: { release: string; colour: Colour } | null; colour?: Colour; switched?: boolean } = {};
  const { timings, phase } = phases(deps.log, h.name, {
    reachable: () => hostReachable(deps.runner, h),
    leftState: (name) => leftState(name, id, progress),
  });

  // The Docker context is checked (a docker CLI start) only once a docker or compose command is
  // coming: a no-op deploy never needs it, a real one checks it beside the lock's round trip.
  let contextReady: Promise<void> | undefined;
  const dockerContext = () => {
    contextReady ??= ensureDockerContext(deps.runner, h);
    contextReady.catch(() => {}); // awaited where it is needed; not an unhandled rejection meanwhile
    return contextReady;
  };
  let state = await phase('observe', async () => {
    await prepareSsh(deps.runner, h);
    return observeApp(deps, h, app.name, pulled ? render.image : undefined, hostJob.secretsHash);
  });
  // A backup:restore that runs or was cut off owns the app's containers until it is finished.
  if (state.restore) throw new StepError('deploy', `${h.name}: ${restoreNote(app.name, state.restore)}; then deploy again (nothing was changed)`, { app: app.name, host: h.name });
  if (pulled && !state.imageId && !hostJob.skipImage) {
    await dockerContext();
    await phase('image', () => ensureImageOnHost(deps, h, app, render, hostJob.secrets));
    state.imageId = parseImageInspect((await deps.runner.run(dockerCmd.imageInspect(h.context, render.image), { allowFailure: true })).stdout).imageId;
  }
  if (pulled && state.imageId) id = releaseId(render.release, render.configHash, state.imageId);
  const job = { ...hostJob, id };
  // What should run besides the colours; a no-op starts any of them found down (and a stopped live colour).
  const support = supportServices(job);
  const services = [...support.waited, ...support.started, ...workerServices(job)];
  // Optimistic: "nothing changed" needs no lock only when no other deploy held it around the read
  // and nothing is left to repair; anything else is decided again under the lock.
  const optimistic = planDeploy(state, id, job.secretsHash, { services });
  if (optimistic.kind === 'noop' && !optimistic.repair) {
    deps.log.info(`${h.name}: nothing changed (${optimistic.reason}); no container touched`);
    return { host: h.name, result: 'noop', release: id, colour: optimistic.colour, timings };
  }
  void dockerContext();
  // Decide again under the lock: another deploy may have finished between the read and the lock.
  // The locked read rides in the lock's own round trip.
  const observeLocked = appObservation(app.name, pulled ? render.image : undefined, job.secretsHash);
  const lock = await phase('lock', () => acquireLock(deps.runner, h.ssh, lockDir(app.name), `deploy ${app.name} ${id}`, { host: h.name, app: app.name, now: deps.now(), then: observeLocked }));
  if (lock.takenOver) deps.log.warn(`${h.name}: took over a lock left by a dead deploy (${lock.takeoverReason ?? 'its holder stopped'})`);
  // A deployed release's history entry rides in the lock's release.
  let history: ScriptPart | undefined;
  try {
    state = lock.thenOutput !== undefined ? parseObservation(lock.thenOutput) : await phase('observe (locked)', () => observeApp(deps, h, app.name, pulled ? render.image : undefined, job.secretsHash));
    const decision = planDeploy(state, id, job.secretsHash, { underLock: true, services });
    if (decision.kind === 'noop') {
      if (decision.repair) {
        await dockerContext();
        await phase('finish interrupted deploy', () => finishInterrupted(deps, h, app, decision.repair!, decision.colour, id));
      }
      deps.log.info(`${h.name}: nothing changed (${decision.reason})${decision.repair?.start ? '' : '; no container touched'}`);
      return { host: h.name, result: 'noop', release: id, colour: decision.colour, timings };
    }
    const colour = decision.colour;
    progress = { live: decision.live, colour };
    await dockerContext();
    // The image first: its entrypoint and command go into the release's env file (secrets wrapper).
    // A pulled image already on the host was inspected by the observation: no more round trips.
    const seen = pulled && state.imageId && state.imageExec ? { imageId: state.imageId, digest: state.imageDigest, exec: state.imageExec } : undefined;
    if (!job.skipImage && !seen) await phase('image', () => ensureImageOnHost(deps, h, app, render, job.secrets));
    const exec = seen ? imageExecEnv(seen.exec.entrypoint, seen.exec.cmd) : await phase('image config', () => imageExecOnHost(deps, h, render.image));
    const assetPath = app.config.asset_path;
    if (assetPath) {
      const sources = planAssets(state.releases, { tag: render.release, image: render.image }, app.config.deploy.keep_releases, decision.live?.release);
      const summary = await phase('assets', () => prepareAssets(deps.runner, h.ssh, h.name, app.name, assetPath, sources));
      deps.log.info(`${h.name}: ${summary}`);
    }
    // The upload's round trip also cancels a pending retire of the colour about to start.
    // The secret set is written once: a set already on the host (same values) is left as it is.
    const setThere = state.secretsCheck === job.secretsHash;
    await phase('upload', () => uploadRelease(deps, job, exec, scriptParts.cancelRetire(retirePidFile(app.name, colour)), setThere));
    // Compose gets no secret value: only the image's entrypoint/command and the secret set ids.
    const target = composeTarget(deps, h, app.name, { ...exec, ...job.setEnv }, job.composeDir);
    await runHook(deps, app, 'pre_deploy', { BERTH_HOST: h.name, BERTH_RELEASE: id });
    await phase('support services', () => startSupportServices(deps, target, job));
    job.accessoriesReady.settle(h.name);
    await reachAccessories(deps, job, phase);
    if (app.config.litestream) await phase('backup pre-flight', () => backupPreflight(deps, h, app, id));
    // While the release command runs, the idle colour's container is created, not started (compose's
    // own start-up and the create leave the critical path); it starts once the command succeeded.
    // Only beside a live release: a first deploy's compose creates the project's networks and volumes.
    const precreate = app.config.release_command && decision.live && !deps.runner.dryRun
      ? deps.runner.run(compose.create(target, [webService(colour)]), { allowFailure: true }).then((r) => r.exitCode === 0, () => false)
      : undefined;
    if (app.config.release_command) {
      // A failed release command waits for the create: no compose runs on after the lock is released.
      await phase('release command', async () => {
        const ranOn = await job.releaseGate.run(h.name, async () => {
          const res = await deps.runner.run(compose.run(target, RELEASE_SERVICE, splitCommand(app.config.release_command!)), { allowFailure: true });
          if (res.exitCode !== 0 && lacksShell(res.stdout + res.stderr)) throw new StepError('release command', `${noShellMessage(render.image)}; nothing switched, the old release keeps serving.`);
          if (res.exitCode !== 0) {
            throw new StepError('release command', `"${app.config.release_command}" failed (exit ${res.exitCode}) on ${h.name}; nothing switched, the old release keeps serving.\n${tail(res.stdout + res.stderr)}`);
          }
        });
        if (ranOn !== h.name) deps.log.info(`${h.name}: release command already ran on ${ranOn} in this deploy (once per deploy: one database)`);
      }).catch(async (e: unknown) => {
        await precreate;
        throw e;
      });
    }
    const created = precreate ? await precreate : false;
    const cut = {
      runner: deps.runner, ssh: h.ssh, host: h.name, app: app.name, target, colour, port: app.config.port, image: render.image,
      routing: fileOf(job, routingFile(colour)), healthTimeoutSeconds: app.config.deploy.health_timeout_seconds,
      previousRouting: decision.live ? fileOf(job, routingFile(decision.live.colour)) : undefined,
    };
    const containerId = await phase('start + health', () => startColour({ ...cut, created }));
    // The switch records the release in its own round trip (current.json names the serving colour
    // even when the connection drops right after).
    const previous = decision.live ? { release: decision.live.release, colour: decision.live.colour } : null;
    const early = await releaseRecord(deps, job, colour, containerId, seen ? { imageId: seen.imageId, digest: seen.digest } : {});
    const switchRecord = {
      releasePath: `${releaseDir(app.name, id)}/release.json`, release: JSON.stringify(early, null, 2) + '\n',
      currentPath: currentFile(app.name), current: JSON.stringify({ release: id, colour, previous, switchedAt: deps.now().toISOString() } satisfies CurrentRecord, null, 2) + '\n',
      // secrets.env (running the live release by hand) becomes this release's only once it serves.
      envFrom: releaseSecretsEnv(app.name, id), envTo: appSecretsEnv(app.name),
    };
    const routed = app.config.domains.length > 0;
    if (routed && state.maintenance) await phase('maintenance route', () => keepMaintenance(deps, h, app, state.maintenance!));
    const switchMs = await phase('switch', () => (routed ? switchRoute({ ...cut, record: switchRecord }) : Promise.resolve(0)));
    progress.switched = true;
    const switchedAt = Date.now();
    await phase('workers', () => startWorkers(deps, target, job));
    // Exactly this release's services: what only the release it replaces had is stopped and removed (volumes kept).
    const orphans = orphanServices(state.containers, fileOf(job, 'compose.yml'));
    if (orphans.length) {
      const part = scriptParts.removeServices(appProject(app.name), app.config.deploy.stop_timeout_seconds, orphans);
      const r = await phase('remove services', () => deps.runner.run(hostScripts.run(h.ssh, part.script, part.args)));
      deps.log.info(`${h.name}: removed ${orphans.join(', ')} (not in release ${id}; volumes kept)${r.dryRun ? ' [dry run]' : ''}`);
    }
    // The switch wrote the full record when the image was known before it; otherwise add id and digest now.
    const record = routed && seen ? early : await phase('record', () => recordRelease(deps, job, colour, containerId, previous, exec));
    if (decision.live?.containerId) {
      await phase('retire', () =>
        deps.runner.run(hostScripts.retireLater(h.ssh, decision.live!.containerId!, decision.live!.colour, currentFile(app.name), retirePidFile(app.name, decision.live!.colour), app.config.deploy.retire_seconds, app.config.deploy.stop_timeout_seconds)),
      );
    }
    await phase('prune', () => pruneAfterDeploy(deps, h, app, afterDeploy(state, record, decision.live?.release)));
    await runHook(deps, app, 'post_deploy', { BERTH_HOST: h.name, BERTH_RELEASE: id });
    if (deps.runner.dryRun) {
      deps.log.info(`${h.name}: dry run — ${app.name} ${id} would go live on ${colour}${decision.live ? ` (replacing ${decision.live.release} on ${decision.live.colour})` : ''}; nothing was written or started`);
      return { host: h.name, result: 'dry-run', release: id, colour, timings };
    }
    deps.log.info(`${h.name}: ${app.name} ${id} live on ${colour}`);
    const outcome: HostOutcome = { host: h.name, result: 'deployed', release: id, colour, timings, switchMs, switchedAt, record };
    history = audit?.successPart(outcome);
    return outcome;
  } finally {
    const appended = await lock.release(history);
    if (history) audit!.appended(appended);
  }
}

export const fileOf = (render: Pick<AppRender, 'files'>, path: string) => {
  const f = render.files.find((x) => x.path === path);
  if (!f) throw new Error(`the rendered release has no ${path}`);
  return f.content;
};

type ComposeDoc = { services: Record<string, { healthcheck?: unknown; profiles?: unknown }> };
/** The release's compose.yml, parsed once (a deploy asks for its services several times, secret sets and orphans too). */
function composeDocOf(render: Pick<AppRender, 'files'>): ComposeDoc {
  return parsedYaml(fileOf(render, 'compose.yml')) as ComposeDoc;
}

/**
 * Services other than the web colours and workers: accessories, the replicator, backup loops. A
 * service with a compose profile (the release command's) is one `up` never starts: nor does Berth.
 */
export function supportServices(render: Pick<AppRender, 'files'>): { waited: string[]; started: string[] } {
  const doc = composeDocOf(render);
  const names = Object.keys(doc.services).filter((s) => !/^web-(blue|green)$/.test(s) && !s.startsWith('worker-') && !doc.services[s]!.profiles);
  return {
    waited: names.filter((s) => doc.services[s]!.healthcheck),
    started: names.filter((s) => !doc.services[s]!.healthcheck),
  };
}

export const workerServices = (render: Pick<AppRender, 'files'>) => Object.keys(composeDocOf(render).services).filter((s) => s.startsWith('worker-'));

export async function startSupportServices(deps: Deps, target: ComposeTarget, render: Pick<AppRender, 'files'>) {
  const { waited, started } = supportServices(render);
  if (waited.length) await deps.runner.run(compose.upWait(target, waited, 120));
  if (started.length) await deps.runner.run(compose.up(target, started));
}

export async function startWorkers(deps: Deps, target: ComposeTarget, render: Pick<AppRender, 'files'>) {
  const workers = workerServices(render);
  if (workers.length) await deps.runner.run(compose.up(target, workers));
}

/**
 * Before the release command and start: wait for the shared accessories this host reaches (when their
 * host deploys in this run), then check it can open a connection to each (a firewall not updated for
 * this host, or no route between the private addresses, is said here, not as a failed health check).
 */
export async function reachAccessories(deps: Deps, job: HostJob, phase: <T>(name: string, fn: () => Promise<T>) => Promise<T>) {
  const { app, placement, h, project } = job;
  const remote = sharedAccessories(placement)
    .map((a) => accessoryEndpoint(app, placement, project.hosts, a, h.name))
    .filter((e) => !e.local && e.port !== undefined);
  if (!remote.length || !placement.on[h.name]?.image) return;
  await phase('reach accessories', async () => {
    await job.accessoriesReady.wait(deps, h.name, job.needs);
    const r = await deps.runner.run(reachScripts.reach(h.ssh, remote.map((e) => ({ address: e.address, port: e.port! }))), { allowFailure: true });
    if (r.dryRun || r.exitCode === 0) return;
    const which = remote.map((e) => `${e.accessory} on ${e.host} (${e.address}:${e.port})`).join(', ');
    const hardened = [...new Set(remote.map((e) => e.host))].filter((x) => project.hosts[x]?.hardening?.ufw !== false);
    throw new StepError(
      'accessories',
      `${h.name} cannot reach ${which}: ${r.stdout.trim() || r.stderr.trim()}; nothing switched here, the old release keeps serving. ` +
        `If ${hardened.join(', ') || 'the accessory host'} is hardened, rerun "npm run setup -- ${hardened[0] ?? remote[0]!.host} --harden" so its firewall admits ${h.name} (${project.hosts[h.name]?.private_ip ?? 'its private_ip'}); otherwise check the private network between them.`,
      { app: app.name, host: h.name },
    );
  });
}

/** The files an accessory's `files` key names (read here, on the operator machine), at their fixed host paths. */
export async function accessoryFileEntries(app: App, accessories: readonly string[]): Promise<MemoryEntry[]> {
  const out: MemoryEntry[] = [];
  for (const a of accessories) {
    for (const [target, local] of Object.entries(app.config.accessories[a]?.files ?? {}).sort(([x], [y]) => byText(x, y))) {
      out.push({ path: accessoryFileHostPath(app.name, a, target), content: await readFile(resolve(app.dir, local), 'utf8'), mode: 0o644 });
    }
  }
  return out;
}

/**
 * One tar stream: the rendered release, litestream.yml at its stable path, the release's env file
 * and its secret set (mode 600 / 444, dirs 700). The set is skipped when the host already has it.
 */
export async function uploadRelease(deps: Deps, job: HostJob, exec: Record<string, string>, then?: ScriptPart, setThere = false) {
  const { app, id, secrets } = job;
  const extra: MemoryEntry[] = [
    { path: appSecretsDir(app.name), type: 'directory', mode: 0o700 },
    { path: `${appSecretsDir(app.name)}/releases`, type: 'directory', mode: 0o700 },
    // The --env-file for running the release by hand (it names its set), and what rollback restores.
    { path: releaseSecretsEnv(app.name, id), content: formatSecretsEnv({ ...secrets, ...exec, ...job.setEnv }), mode: 0o600 },
    ...(setThere ? [] : secretSetEntries(app.name, secrets)),
  ];
  const ls = job.files.find((f) => f.path === 'litestream.yml');
  if (ls) extra.push({ path: litestreamConfigPath(app.name), content: ls.content, mode: 0o644 });
  extra.push(...(await accessoryFileEntries(app, job.placement.on[job.h.name]?.accessories ?? [])));
  const tls = app.config.tls;
  if (tls.mode === 'origin-certificate') {
    // Cloudflare Full (strict): the origin certificate and its key, where the route's tls section points.
    const files = originCertHostFiles(app.name);
    extra.push(
      { path: files.cert, content: await readFile(join(app.dir, tls.cert_file), 'utf8'), mode: 0o644 },
      { path: files.key, content: secrets[tls.key_secret]!, mode: 0o600 },
    );
  }
  const stream = packUpload(job.composeDir, releaseDir(app.name, id), extra);
  await deps.runner.run(hostScripts.untar(job.h.ssh, then), { stdinStream: stream });
}

async function releaseRecord(deps: Deps, job: HostJob, colour: Colour, containerId: string, image: { imageId?: string; digest?: string }): Promise<ReleaseRecord> {
  const { h, app, render, id } = job;
  return {
    id, app: app.name, tag: render.release, image: render.image, ...image,
    colour, configHash: render.configHash, secretsHash: job.secretsHash, gitCommit: await deps.gitCommit(),
    createdAt: deps.now().toISOString(), host: h.name, containerId,
  };
}

async function recordRelease(deps: Deps, job: HostJob, colour: Colour, containerId: string, previous: CurrentRecord['previous'], exec: Record<string, string>) {
  const { h, app, render, id } = job;
  const img = await deps.runner.run(dockerCmd.imageInspect(h.context, render.image), { allowFailure: true });
  const record = await releaseRecord(deps, job, colour, containerId, parseImageInspect(img.stdout));
  const current: CurrentRecord = { release: id, colour, previous, switchedAt: deps.now().toISOString() };
  const stream = packUpload(undefined, undefined, [
    { path: `${releaseDir(app.name, id)}/release.json`, content: JSON.stringify(record, null, 2) + '\n', mode: 0o644 },
    { path: currentFile(app.name), content: JSON.stringify(current, null, 2) + '\n', mode: 0o644 },
    { path: appSecretsEnv(app.name), content: formatSecretsEnv({ ...job.secrets, ...exec, ...job.setEnv }), mode: 0o600 },
  ]);
  await deps.runner.run(hostScripts.untar(h.ssh), { stdinStream: stream });
  return record;
}

// ---------------------------------------------------------------- images

async function prepareImageLocally(deps: Deps, app: App, render: AppRender, secrets: Record<string, string>) {
  const b = app.config.build;
  if (!b) return;
  await runHook(deps, app, 'pre_build', { BERTH_RELEASE: render.release, BERTH_IMAGE: render.image });
  if (b.on !== 'local') return;
  const end = deps.log.step('build (local)');
  await deps.runner.run(dockerCmd.buildLocal(render.image, resolve(app.dir, b.context), resolve(app.dir, b.context, b.dockerfile), b.args));
  const reg = registryOf(app.config);
  if (reg) {
    await deps.runner.run(dockerCmd.loginLocal(reg.server, reg.username, secrets[reg.password_secret]!));
    await retrying(deps.log, `push ${render.image}`, REGISTRY, () => deps.runner.run(dockerCmd.pushLocal(render.image)));
  }
  end();
}

export async function ensureImageOnHost(deps: Deps, h: HostHandle, app: App, render: AppRender, secrets: Record<string, string>) {
  const b = app.config.build;
  if (b?.on === 'host') {
    await deps.runner.run(dockerCmd.buildOnHost(h.context, render.image, resolve(app.dir, b.context), resolve(app.dir, b.context, b.dockerfile), b.args));
    return;
  }
  // registry: none — only the layers the host lacks, over SSH; verified by image ID before it is tagged.
  if (shipsOverSsh(app.config)) {
    await shipImage(deps, [h], render.image);
    return;
  }
  const reg = registryOf(app.config);
  const present = await deps.runner.run(dockerCmd.imageInspect(h.context, render.image), { allowFailure: true });
  // A locally built image is always pulled, so the host runs what the registry holds.
  if (present.exitCode === 0 && !(b?.on === 'local' && reg)) return;
  if (reg) await deps.runner.run(dockerCmd.login(h.context, reg.server, reg.username, secrets[reg.password_secret]!));
  await retrying(deps.log, `${h.name}: pull ${render.image}`, REGISTRY, () => deps.runner.run(dockerCmd.pull(h.context, render.image)));
}

// ---------------------------------------------------------------- interrupted deploys

/** What a host is left in when a deploy lost its connection during `phase`. */
export function leftState(phase: string, id: string, p: { live?: { release: string; colour: Colour } | null; colour?: Colour; switched?: boolean }): string {
  if (p.switched) {
    return `The new release ${id} is live on ${p.colour}${p.live ? `; the old colour ${p.live.colour} keeps running until the rerun or the next deploy retires it` : ''}.`;
  }
  if (phase === 'switch') return `The route to ${p.colour} may or may not be in force; rerun the deploy when the host answers (it converges).`;
  const serving = p.live ? `the old release ${p.live.release} keeps serving on ${p.live.colour}` : p.live === null ? 'nothing was serving yet' : 'nothing was changed';
  return `Nothing switched: ${serving}. Rerun the deploy when the host answers (it takes over the lock this run could not release).`;
}

/**
 * Finish what a deploy that lost its connection after its switch left: the record, the old colour's
 * retirement; and start what of the live release is down (a stopped live colour first), from the
 * release's own files and secret set on the host.
 */
async function finishInterrupted(deps: Deps, h: HostHandle, app: App, repair: Repair, colour: Colour, id: string) {
  if (repair.start?.length) {
    const dir = await mkdtemp(join(tmpdir(), 'berth-start-'));
    try {
      const values = await fetchRelease(deps, h, app.name, id, dir);
      await startReleaseServices(deps, h, app, composeTarget(deps, h, app.name, composeEnvOf(values), dir), colour, repair.start);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    deps.log.warn(`${h.name}: started ${repair.start.join(', ')} of the live release ${id} again (found stopped)`);
  }
  if (repair.record) {
    const current: CurrentRecord = { ...repair.record, switchedAt: deps.now().toISOString() };
    await deps.runner.run(hostScripts.writeFile(h.ssh, currentFile(app.name), JSON.stringify(current, null, 2) + '\n', '644'));
    deps.log.warn(`${h.name}: recorded ${repair.record.release} on ${repair.record.colour} as live (an interrupted deploy had switched without recording)`);
  }
  if (repair.retire) {
    const r = repair.retire;
    await deps.runner.run(hostScripts.retireLater(h.ssh, r.containerId, r.colour, currentFile(app.name), retirePidFile(app.name, r.colour), app.config.deploy.retire_seconds, app.config.deploy.stop_timeout_seconds));
    deps.log.warn(`${h.name}: retiring ${r.colour}, left running by an interrupted deploy`);
  }
}

// ---------------------------------------------------------------- helpers

const tail = (text: string, n = 20) => stripAnsi(text).trim().split('\n').slice(-n).join('\n');


/** `{{.Id}} {{json .RepoDigests}}` → image id and the first repo digest. */
export function parseImageInspect(out: string): { imageId?: string; digest?: string } {
  const line = out.trim();
  if (!line) return {};
  const i = line.indexOf(' ');
  const imageId = i < 0 ? line : line.slice(0, i);
  let digest: string | undefined;
  try {
    digest = (JSON.parse(line.slice(i + 1)) as string[] | null)?.[0];
  } catch {
    digest = undefined;
  }
  return { imageId, digest };
}

/** The steps a host without web shares with web hosts (deploy-services.ts gets them passed: no import cycle). */
const SERVICE_STEPS = {
  composeTarget, ensureImageOnHost, observeApp, parseImageInspect, reachAccessories, startSupportServices, startWorkers, supportServices, uploadRelease, workerServices,
};
export type ServiceSteps = typeof SERVICE_STEPS;
