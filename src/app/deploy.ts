// `berth deploy <app>`: validate → render → image → (per host) observe → lock → upload → release
// command → start idle colour → health gate → switch → record → retire old colour.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import type { App, Project } from '../config/schema.ts';
import { compose, type ComposeTarget, dockerCmd } from '../docker/argv.ts';
import { splitCommand } from '../docker/command.ts';
import { hostScripts, observeAppPart, type ScriptPart, scriptParts } from '../exec/host-scripts.ts';
import { acquireLock } from '../exec/lock.ts';
import { startColour, switchRoute } from '../exec/cutover.ts';
import { prepareAssets } from '../exec/assets.ts';
import { planAssets } from '../plan/assets-plan.ts';
import { formatSecretsEnv, secretsDigest } from '../exec/secrets-file.ts';
import { parseObservation, type AppState, type CurrentRecord, type ReleaseRecord } from '../exec/state.ts';
import { packUpload, type MemoryEntry } from '../exec/transfer.ts';
import {
  appDir,
  appProject,
  appSecretFile,
  appSecretsDir,
  appSecretsEnv,
  type Colour,
  currentFile,
  dynamicConfigFile,
  EDGE_ACME_STORAGE,
  fleetCertDynamicFile,
  fleetCertHostFiles,
  litestreamConfigPath,
  lockDir,
  originCertHostFiles,
  releaseDir,
  releaseSecretsEnv,
  retirePidFile,
  webService,
} from '../names.ts';
import { planDeploy, releaseId, type Repair } from '../plan/deploy-plan.ts';
import { type FleetCertificate, findStoredCertificate, fleetCertificate, renderFleetCertificate } from '../plan/fleet-certificate.ts';
import { routingFile, type AppRender } from '../plan/types.ts';
import { type Deps, phases } from './deps.ts';
import { ensureDockerContext, type HostHandle, hostHandle, hostReachable, prepareSsh } from './host.ts';
import { loadAppContext, runHook } from './app-context.ts';
import { backupPreflight } from './backup-preflight.ts';
import { imageExecOnHost } from './image-exec.ts';
import { imageExecEnv } from '../plan/secret-env.ts';
import { REGISTRY, retrying, SSH_CONNECT } from './retry.ts';
import { tlsPreflight } from './tls-preflight.ts';
import { StepError } from '../errors.ts';
import { filterHosts, type HostFilter } from '../config/host-filter.ts';
import { stripAnsi } from '../log/ansi.ts';
import { audited } from './audit.ts';
import { pruneAfterDeploy } from './prune.ts';
import { afterDeploy } from '../plan/prune-plan.ts';
import { type FleetHostState, formatFleetReport } from '../plan/fleet-report.ts';
import { hostBatches } from '../plan/host-batches.ts';
import { ReleaseGate, releaseScope } from './release-gate.ts';

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
  colour: Colour;
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
    const secretsHash = secretsDigest(secrets);
    deps.log.info(`release ${id}${app.config.build ? '' : '-<image id>'}: ${render.image} → ${render.hosts.join(', ')} (${app.config.domains.join(', ') || 'no domains'})`);

    const only = filterHosts(app, project.hosts, opts.only);
    const hosts = render.hosts.filter((n) => only.includes(n)).map((n) => hostHandle(n, project.hosts[n]!));
    await tlsPreflight(deps, project, app, render.hosts);
    if (!opts.skipImage) await prepareImageLocally(deps, app, render, secrets);

    // One certificate for the fleet: the issuer (first by name) orders it and deploys alone first;
    // every other host gets the issuer's certificate before its route is written, so its Traefik
    // never orders one.
    const shared = fleetCertificate(app, project.edge, render.hosts);
    const byName = new Map(hosts.map((h) => [h.name, h]));
    const releaseGate = new ReleaseGate(releaseScope(app.config.per_host_volumes));
    const outcomes: HostOutcome[] = [];
    for (const batch of hostBatches(hosts.map((h) => h.name), app.config.deploy.batch_size, shared?.issuer)) {
      const settled = await Promise.allSettled(
        batch.map(async (name) => {
          const h = byName.get(name)!;
          if (shared && h.name !== shared.issuer) await shareCertificate(deps, app, shared, hostHandle(shared.issuer, project.hosts[shared.issuer]!), h);
          const job = { project, app, render, secrets, id, secretsHash, h, skipImage: !!opts.skipImage, composeDir, releaseGate };
          return audited(deps, h, app.name, 'deploy', Object.values(secrets), { release: id, image: render.image, configHash: render.configHash }, () => deployToHost(deps, job));
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

interface HostJob {
  project: Project;
  app: App;
  render: AppRender;
  secrets: Record<string, string>;
  id: string;
  secretsHash: string;
  h: HostHandle;
  skipImage: boolean;
  /** Local directory of the rendered release that is uploaded and run. */
  composeDir: string;
  /** Where the release command runs: once per deploy, or on every host (release-gate.ts). */
  releaseGate: ReleaseGate;
}

/** The one observation of an app on a host (state, route, and the image's id when `image` is given). */
const appObservation = (app: string, image?: string): ScriptPart => observeAppPart(appDir(app), app, { route: dynamicConfigFile(app), image });

export async function observeApp(deps: Deps, h: HostHandle, app: string, image?: string): Promise<AppState> {
  // The first round trip to the host opens its SSH connection: retried when the connection fails.
  const part = appObservation(app, image);
  const cmd = hostScripts.run(h.ssh, part.script, part.args, false);
  const out = await retrying(deps.log, `${h.name}: connect`, SSH_CONNECT, () => deps.runner.run(cmd));
  return parseObservation(out.stdout);
}

async function deployToHost(deps: Deps, hostJob: HostJob): Promise<HostOutcome> {
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
    return observeApp(deps, h, app.name, pulled ? render.image : undefined);
  });
  if (pulled && !state.imageId && !hostJob.skipImage) {
    await dockerContext();
    await phase('image', () => ensureImageOnHost(deps, h, app, render, hostJob.secrets));
    state.imageId = parseImageInspect((await deps.runner.run(dockerCmd.imageInspect(h.context, render.image), { allowFailure: true })).stdout).imageId;
  }
  if (pulled && state.imageId) id = releaseId(render.release, render.configHash, state.imageId);
  const job = { ...hostJob, id };
  // Optimistic: "nothing changed" needs no lock only when no other deploy held it around the read
  // and nothing is left to repair; anything else is decided again under the lock.
  const optimistic = planDeploy(state, id, job.secretsHash);
  if (optimistic.kind === 'noop' && !optimistic.repair) {
    deps.log.info(`${h.name}: nothing changed (${optimistic.reason}); no container touched`);
    return { host: h.name, result: 'noop', release: id, colour: optimistic.colour, timings };
  }
  void dockerContext();
  // Decide again under the lock: another deploy may have finished between the read and the lock.
  // The locked read rides in the lock's own round trip.
  const observeLocked = appObservation(app.name, pulled ? render.image : undefined);
  const lock = await phase('lock', () => acquireLock(deps.runner, h.ssh, lockDir(app.name), `deploy ${app.name} ${id}`, { host: h.name, app: app.name, now: deps.now(), then: observeLocked }));
  if (lock.takenOver) deps.log.warn(`${h.name}: took over a lock left by a dead deploy (${lock.takeoverReason ?? 'its holder stopped'})`);
  try {
    state = lock.thenOutput !== undefined ? parseObservation(lock.thenOutput) : await phase('observe (locked)', () => observeApp(deps, h, app.name, pulled ? render.image : undefined));
    const decision = planDeploy(state, id, job.secretsHash, { underLock: true });
    if (decision.kind === 'noop') {
      if (decision.repair) await phase('finish interrupted deploy', () => finishInterrupted(deps, h, app, decision.repair!));
      deps.log.info(`${h.name}: nothing changed (${decision.reason}); no container touched`);
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
    await phase('upload', () => uploadRelease(deps, job, exec, scriptParts.cancelRetire(retirePidFile(app.name, colour))));
    const target = composeTarget(deps, h, app.name, { ...job.secrets, ...exec }, job.composeDir);
    await runHook(deps, app, 'pre_deploy', { BERTH_HOST: h.name, BERTH_RELEASE: id });
    await phase('support services', () => startSupportServices(deps, target, render));
    if (app.config.litestream) await phase('backup pre-flight', () => backupPreflight(deps, h, app, id));
    if (app.config.release_command) {
      await phase('release command', async () => {
        const ranOn = await job.releaseGate.run(h.name, async () => {
          const res = await deps.runner.run(compose.run(target, webService(colour), splitCommand(app.config.release_command!)), { allowFailure: true });
          if (res.exitCode !== 0) {
            throw new StepError('release command', `"${app.config.release_command}" failed (exit ${res.exitCode}) on ${h.name}; nothing switched, the old release keeps serving.\n${tail(res.stdout + res.stderr)}`);
          }
        });
        if (ranOn !== h.name) deps.log.info(`${h.name}: release command already ran on ${ranOn} in this deploy (once per deploy: one database)`);
      });
    }
    const cut = {
      runner: deps.runner, ssh: h.ssh, host: h.name, app: app.name, target, colour, port: app.config.port,
      routing: fileOf(render, routingFile(colour)), healthTimeoutSeconds: app.config.deploy.health_timeout_seconds,
      previousRouting: decision.live ? fileOf(render, routingFile(decision.live.colour)) : undefined,
    };
    const containerId = await phase('start + health', () => startColour(cut));
    // The switch records the release in its own round trip (current.json names the serving colour
    // even when the connection drops right after).
    const previous = decision.live ? { release: decision.live.release, colour: decision.live.colour } : null;
    const early = await releaseRecord(deps, job, colour, containerId, seen ? { imageId: seen.imageId, digest: seen.digest } : {});
    const switchRecord = {
      releasePath: `${releaseDir(app.name, id)}/release.json`, release: JSON.stringify(early, null, 2) + '\n',
      currentPath: currentFile(app.name), current: JSON.stringify({ release: id, colour, previous, switchedAt: deps.now().toISOString() } satisfies CurrentRecord, null, 2) + '\n',
    };
    const routed = app.config.domains.length > 0;
    const switchMs = await phase('switch', () => (routed ? switchRoute({ ...cut, record: switchRecord }) : Promise.resolve(0)));
    progress.switched = true;
    const switchedAt = Date.now();
    await phase('workers', () => startWorkers(deps, target, render));
    // The switch wrote the full record when the image was known before it; otherwise add id and digest now.
    const record = routed && seen ? early : await phase('record', () => recordRelease(deps, job, colour, containerId, previous));
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
    return { host: h.name, result: 'deployed', release: id, colour, timings, switchMs, switchedAt, record };
  } finally {
    await lock.release();
  }
}

export function composeTarget(deps: Deps, h: HostHandle, app: string, secrets: Record<string, string>, dir?: string): ComposeTarget {
  return { context: h.context, project: appProject(app), files: [join(dir ?? join(deps.root, 'compose', app), 'compose.yml')], env: secrets };
}

export const fileOf = (render: AppRender, path: string) => {
  const f = render.files.find((x) => x.path === path);
  if (!f) throw new Error(`render of ${render.app} has no ${path}`);
  return f.content;
};

/** Services other than the web colours and workers: accessories, the replicator, backup loops. */
export function supportServices(render: AppRender): { waited: string[]; started: string[] } {
  const doc = YAML.parse(fileOf(render, 'compose.yml')) as { services: Record<string, { healthcheck?: unknown }> };
  const names = Object.keys(doc.services).filter((s) => !/^web-(blue|green)$/.test(s) && !s.startsWith('worker-'));
  return {
    waited: names.filter((s) => doc.services[s]!.healthcheck),
    started: names.filter((s) => !doc.services[s]!.healthcheck),
  };
}

export const workerServices = (render: AppRender) =>
  Object.keys((YAML.parse(fileOf(render, 'compose.yml')) as { services: Record<string, unknown> }).services).filter((s) => s.startsWith('worker-'));

async function startSupportServices(deps: Deps, target: ComposeTarget, render: AppRender) {
  const { waited, started } = supportServices(render);
  if (waited.length) await deps.runner.run(compose.upWait(target, waited, 120));
  if (started.length) await deps.runner.run(compose.up(target, started));
}

async function startWorkers(deps: Deps, target: ComposeTarget, render: AppRender) {
  const workers = workerServices(render);
  if (workers.length) await deps.runner.run(compose.up(target, workers));
}

/** One tar stream: the rendered release, litestream.yml at its stable path, and the secrets (mode 600, dir 700). */
async function uploadRelease(deps: Deps, job: HostJob, exec: Record<string, string>, then?: ScriptPart) {
  const { app, render, id, secrets } = job;
  const extra: MemoryEntry[] = [
    { path: appSecretsDir(app.name), type: 'directory', mode: 0o700 },
    { path: `${appSecretsDir(app.name)}/releases`, type: 'directory', mode: 0o700 },
    { path: `${appSecretsDir(app.name)}/files`, type: 'directory', mode: 0o700 },
    // The --env-file for running the release by hand, and what rollback restores.
    { path: appSecretsEnv(app.name), content: formatSecretsEnv({ ...secrets, ...exec }), mode: 0o600 },
    { path: releaseSecretsEnv(app.name, id), content: formatSecretsEnv({ ...secrets, ...exec }), mode: 0o600 },
    // Mounted into containers whose process may not be root (postgres drops to uid 999): readable
    // inside, while the 700 directory keeps other users on the host out.
    ...Object.entries(secrets).map(([k, v]) => ({ path: appSecretFile(app.name, k), content: v, mode: 0o444 })),
  ];
  const ls = render.files.find((f) => f.path === 'litestream.yml');
  if (ls) extra.push({ path: litestreamConfigPath(app.name), content: ls.content, mode: 0o644 });
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

async function recordRelease(deps: Deps, job: HostJob, colour: Colour, containerId: string, previous: CurrentRecord['previous']) {
  const { h, app, render, id } = job;
  const img = await deps.runner.run(dockerCmd.imageInspect(h.context, render.image), { allowFailure: true });
  const record = await releaseRecord(deps, job, colour, containerId, parseImageInspect(img.stdout));
  const current: CurrentRecord = { release: id, colour, previous, switchedAt: deps.now().toISOString() };
  const stream = packUpload(undefined, undefined, [
    { path: `${releaseDir(app.name, id)}/release.json`, content: JSON.stringify(record, null, 2) + '\n', mode: 0o644 },
    { path: currentFile(app.name), content: JSON.stringify(current, null, 2) + '\n', mode: 0o644 },
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
  const reg = app.config.registry;
  if (reg) {
    await deps.runner.run(dockerCmd.loginLocal(reg.server, reg.username, secrets[reg.password_secret]!));
    await retrying(deps.log, `push ${render.image}`, REGISTRY, () => deps.runner.run(dockerCmd.pushLocal(render.image)));
  }
  end();
}

async function ensureImageOnHost(deps: Deps, h: HostHandle, app: App, render: AppRender, secrets: Record<string, string>) {
  const b = app.config.build;
  if (b?.on === 'host') {
    await deps.runner.run(dockerCmd.buildOnHost(h.context, render.image, resolve(app.dir, b.context), resolve(app.dir, b.context, b.dockerfile), b.args));
    return;
  }
  const present = await deps.runner.run(dockerCmd.imageInspect(h.context, render.image), { allowFailure: true });
  // A locally built image is always pulled, so the host runs what the registry holds.
  if (present.exitCode === 0 && !(b?.on === 'local' && app.config.registry)) return;
  const reg = app.config.registry;
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

/** Finish what a deploy that lost its connection after its switch left: the record, the old colour's retirement. */
async function finishInterrupted(deps: Deps, h: HostHandle, app: App, repair: Repair) {
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
