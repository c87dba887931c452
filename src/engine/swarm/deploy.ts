// Deploy a cluster app (the Swarm engine). Blue and green are two Swarm services of the app's
// stack; a deploy rolls the idle colour out to the new release while the live one keeps serving:
//   observe (first manager) → nothing changed? stop → lock → Swarm secrets → upload the release
//   → accessories and replicator (idle colour at 0 tasks) → release command (a job) → the idle
//   colour's `replicas` tasks, all healthy (the gate) → each edge's Traefik lists them, all UP →
//   switch the route on every edge (file rename, confirmed through the API) → record → workers
//   → the old colour scales to 0 after retire_seconds (rollback before that is a route switch).
// `docker stack deploy` makes every service match its file, so each step deploys the release's
// stack with the services that must not change copied from the live release (stack-merge.ts).
import type { App } from '../../config/schema.ts';
import { registryOf, shipsOverSsh } from '../../config/registry.ts';
import { shipImage } from '../../app/ship-image.ts';
import type { AppContext } from '../../app/app-context.ts';
import { runHook } from '../../app/app-context.ts';
import { audited } from '../../app/audit.ts';
import type { Deps } from '../../app/deps.ts';
import type { DeployOptions, HostOutcome } from '../../app/deploy.ts';
import { ensureDockerContext, hostReachable, prepareSsh } from '../../app/host.ts';
import { REGISTRY, retrying } from '../../app/retry.ts';
import { tlsPreflight } from '../../app/tls-preflight.ts';
import { dockerCmd } from '../../docker/argv.ts';
import { HealthError, StepError } from '../../errors.ts';
import { chainScripts, hostScripts, type ScriptPart, scriptParts } from '../../exec/host-scripts.ts';
import { acquireLock } from '../../exec/lock.ts';
import { pruneScript } from '../../exec/prune.ts';
import { secretsDigest } from '../../exec/secrets-file.ts';
import type { CurrentRecord, ReleaseRecord } from '../../exec/state.ts';
import { swarmAppScripts, swarmParts } from '../../exec/swarm-app-scripts.ts';
import { packUpload } from '../../exec/transfer.ts';
import { appDir, appSecretsDir, appStack, type Colour, currentFile, dynamicConfigFile, lockDir, otherColour, releaseDir, releasesDir, releaseStack, RELEASE_JOB_SERVICE, retirePidFile, stackService, swarmTraefikService, webService } from '../../names.ts';
import { planDeploy, releaseId, type Repair } from '../../plan/deploy-plan.ts';
import { afterDeploy, planPrune } from '../../plan/prune-plan.ts';
import { renderClusterApp } from '../../plan/render-cluster-app.ts';
import { routerNames } from '../../plan/render-routing.ts';
import { RELEASE_STACK_FILE, STACK_FILE, swarmSecretName } from '../../plan/render-stack.ts';
import { imageExecEnv } from '../../plan/secret-env.ts';
import { hasWorkersOrSupport, mergeStack } from '../../plan/stack-merge.ts';
import { routingFile } from '../../plan/types.ts';
import { type ClusterTarget, clusterTarget, deployStack, observeCluster, readReleaseFiles, refuseHostFilter } from './cluster.ts';
import { type ClusterAppState, parseClusterObservation } from './state.ts';
import { runSteps, type Step } from '../steps.ts';

/** Everything one cluster deploy carries from step to step. */
interface Job {
  deps: Deps;
  ctx: AppContext;
  t: ClusterTarget;
  id: string;
  secretsHash: string;
  secretsVersion: string;
  colour: Colour;
  live: { release: string; colour: Colour } | null;
  state: ClusterAppState;
  /** The release's own files (concrete), by name. */
  files: Record<string, string>;
  /** The live release's stored stack.yml. */
  liveStack?: string;
  replicas: number;
  /** The live release ran per host (the app moves to the cluster with this deploy). */
  fromHost: boolean;
  switched?: boolean;
  switchMs?: number;
  switchedAt?: number;
  record?: ReleaseRecord;
}

const CLUSTER_LOCK_NOTE = (t: ClusterTarget) => `${t.primary.name} (first manager of cluster ${t.name})`;

export async function deployToCluster(deps: Deps, ctx: AppContext, opts: DeployOptions, prepareImage: () => Promise<void>): Promise<HostOutcome[]> {
  const { project, app, render, secrets } = ctx;
  refuseHostFilter(app, opts.only);
  const t = clusterTarget(project, app);
  await tlsPreflight(deps, project, app, render.hosts);
  if (!opts.skipImage) await prepareImage();
  const secretsHash = secretsDigest(secrets);
  const P = t.primary;

  await prepareSsh(deps.runner, P);
  const contextReady = ensureDockerContext(deps.runner, P);
  contextReady.catch(() => {});
  let state = await observeCluster(deps, t, app.name, render.image);
  if (shipsOverSsh(app.config)) {
    // registry: none — Swarm may start a task on any node at any time, so every node gets the
    // layers it lacks over SSH, verified by image ID before it is tagged (as per host).
    await shipImage(deps, t.nodes, render.image);
    state = await observeCluster(deps, t, app.name, render.image);
  } else if (!state.imageId || (app.config.build && registryOf(app.config))) {
    await contextReady;
    await ensureImageOnManager(deps, t, ctx);
    state = await observeCluster(deps, t, app.name, render.image);
  }
  if (!state.imageId && !deps.runner.dryRun) throw new StepError('image', `${render.image} is not on ${P.name} after ${shipsOverSsh(app.config) ? 'shipping' : 'pulling'} it; nothing was changed`, { app: app.name });
  // Every node pulls the image: the first manager's copy names the release (its id, as for a pulled image per host).
  const id = releaseId(render.release, render.configHash, state.imageId);
  const timings: Record<string, number> = {};
  const optimistic = planDeploy(state, id, secretsHash);
  if (optimistic.kind === 'noop' && !optimistic.repair) {
    deps.log.info(`${t.name}: nothing changed (${optimistic.reason}); no service touched`);
    return [{ host: t.name, result: 'noop', release: id, colour: optimistic.colour, timings }];
  }
  await contextReady;
  const planned = { release: id, image: render.image, configHash: render.configHash };
  return [
    await audited(deps, P, app.name, 'deploy', Object.values(secrets), planned, async () => {
      const lock = await acquireLock(deps.runner, P.ssh, lockDir(app.name), `deploy ${app.name} ${id}`, {
        host: P.name, app: app.name, now: deps.now(), then: swarmAppScripts.observePart(appDir(app.name), app.name, appStack(app.name), { route: dynamicConfigFile(app.name), image: render.image }),
      });
      if (lock.takenOver) deps.log.warn(`${CLUSTER_LOCK_NOTE(t)}: took over a lock left by a dead deploy (${lock.takeoverReason ?? 'its holder stopped'})`);
      try {
        if (lock.thenOutput !== undefined) state = parseClusterObservation(lock.thenOutput, app.name);
        const decision = planDeploy(state, id, secretsHash, { underLock: true });
        if (decision.kind === 'noop') {
          if (decision.repair) await finishInterrupted(deps, t, app, decision.repair);
          deps.log.info(`${t.name}: nothing changed (${decision.reason}); no service touched`);
          return { host: t.name, result: 'noop' as const, release: id, colour: decision.colour, timings };
        }
        const job = await prepare(deps, ctx, t, state, id, secretsHash, decision.colour, decision.live ? { release: decision.live.release, colour: decision.live.colour } : null);
        await runSteps(deps, { name: t.name, reachable: () => hostReachable(deps.runner, P) }, DEPLOY_STEPS, job, timings);
        if (deps.runner.dryRun) {
          deps.log.info(`${t.name}: dry run — ${app.name} ${id} would go live on ${job.colour}${job.live ? ` (replacing ${job.live.release} on ${job.live.colour})` : ''}; nothing was written or started`);
          return { host: t.name, result: 'dry-run' as const, release: id, colour: job.colour, timings };
        }
        deps.log.info(`${t.name}: ${app.name} ${id} live on ${job.colour} (${job.replicas} task${job.replicas === 1 ? '' : 's'})`);
        return { host: t.name, result: 'deployed' as const, release: id, colour: job.colour, timings, switchMs: job.switchMs, switchedAt: job.switchedAt, record: job.record };
      } finally {
        await lock.release();
      }
    }),
  ];
}

/** The concrete release (secret names, image digest and exec, release id) and the live release's stack. */
async function prepare(deps: Deps, ctx: AppContext, t: ClusterTarget, state: ClusterAppState, id: string, secretsHash: string, colour: Colour, live: Job['live']): Promise<Job> {
  const { project, app, render } = ctx;
  const secretsVersion = secretsHash.slice(0, 12);
  const exec = state.imageExec ? imageExecEnv(state.imageExec.entrypoint, state.imageExec.cmd) : {};
  // Every node runs the image the first manager has (by digest when it came from a registry).
  const repo = render.image.replace(/(@sha256:[a-f0-9]+)$/, '').replace(/:[^/:]+$/, '');
  const digest = state.imageDigest?.split('@')[1];
  const image = digest ? `${repo}@${digest}` : render.image;
  const concrete = renderClusterApp(project, app, { release: render.release, secretsVersion, imageExec: exec, image, releaseId: id });
  const files = Object.fromEntries(concrete.files.map((f) => [f.path, f.content]));
  let liveStack: string | undefined;
  let fromHost = false;
  if (live) {
    [liveStack] = await readReleaseFiles(deps, t, app.name, [{ release: live.release, file: STACK_FILE }]);
    // Moving to the cluster: the live release ran per host on this manager (no stack at all). The
    // stack starts beside it and takes the route once healthy; its containers stay until removed.
    fromHost = liveStack === undefined && !state.services.length;
    if (fromHost) deps.log.info(`${t.name}: ${app.name} ${live.release} runs per host on ${t.primary.name}; its stack starts beside it and takes the route once healthy (then stop the per-host project: docker compose -p ${appStack(app.name)} down)`);
    else if (liveStack === undefined) {
      throw new StepError('deploy', `the stack file of the live release ${live.release} is missing on ${t.primary.name} (${releaseDir(app.name, live.release)}/${STACK_FILE}); nothing was changed. Roll back to a recorded release, or remove the app's stack and deploy again`, { app: app.name });
    }
  }
  return { deps, ctx, t, id, secretsHash, secretsVersion, colour, live, state, files, liveStack, replicas: app.config.replicas ?? 1, fromHost };
}

const serving = (j: Job) => (j.live ? `the old release ${j.live.release} keeps serving on ${j.live.colour}` : 'nothing was serving yet');
const notSwitched = (j: Job) => `Nothing switched: ${serving(j)}. Rerun the deploy (it converges).`;
const registryAuth = (j: Job) => !!registryOf(j.ctx.app.config);
const extraFiles = (j: Job): Record<string, string> => (j.files['litestream.yml'] ? { 'litestream.yml': j.files['litestream.yml'] } : {});
const step = (j: Job, replicas: number, liveWorkers: boolean, what: string, holdReplicator = false) =>
  mergeStack({ release: j.files[STACK_FILE]!, live: j.liveStack, colour: j.colour, replicas, liveWorkers, what, holdReplicator });
const hasSupport = (j: Job) => !!(j.ctx.app.config.litestream || Object.keys(j.ctx.app.config.accessories).length || j.ctx.app.config.release_command);

export const DEPLOY_STEPS: readonly Step<Job>[] = [
  {
    name: 'secrets',
    leaves: notSwitched,
    run: async (j) => {
      const { app, secrets } = j.ctx;
      // Swarm secrets are immutable: each set of values gets its own names (render-stack.ts).
      const names = Object.keys(secrets).sort();
      const lines = names.map((n) => `${swarmSecretNameOf(j, n)} ${Buffer.from(secrets[n]!).toString('base64')}`).join('\n') + '\n';
      if (names.length) await j.deps.runner.run(swarmAppScripts.createSecrets(j.t.primary.ssh, app.name, j.secretsVersion, lines));
    },
  },
  {
    name: 'upload',
    leaves: notSwitched,
    run: async (j) => {
      const { app } = j.ctx;
      const entries = Object.entries(j.files).map(([path, content]) => ({ path: `${releaseDir(app.name, j.id)}/${path}`, content, mode: 0o644 }));
      // The same round trip cancels a pending retire of the colour about to be rolled out.
      await j.deps.runner.run(hostScripts.untar(j.t.primary.ssh, scriptParts.cancelRetire(retirePidFile(app.name, j.colour))), { stdinStream: packUpload(undefined, undefined, entries) });
    },
  },
  {
    name: 'support services',
    skip: (j) => !hasSupport(j),
    leaves: notSwitched,
    run: async (j) => {
      // Accessories and the replicator at the new release; the idle colour at 0 tasks until the
      // release command has run; the workers as the live release runs them. A replicator the live
      // release lacks (a first deploy) starts with the workers, once the app's own tasks have
      // set up the new database volume: started beside the release command on a fresh volume, the
      // command once met its database read-only (SQLite "attempt to write a readonly database",
      // swarm-rails e2e, 1 of 2 CI runs). Litestream snapshots what is there when it starts.
      await deployStack(j.deps, j.t, appStack(j.ctx.app.name), step(j, 0, true, `${j.id}: support services`, true), extraFiles(j), { registryAuth: registryAuth(j) });
      await pre_deploy(j);
    },
  },
  {
    name: 'release command',
    skip: (j) => !j.files[RELEASE_STACK_FILE],
    leaves: notSwitched,
    run: async (j) => {
      const { app } = j.ctx;
      const stack = releaseStack(app.name);
      const P = j.t.primary;
      // A job runs again on every update of its service: a fresh stack per release command.
      await j.deps.runner.run(swarmAppScripts.removeStack(P.ssh, stack));
      await deployStack(j.deps, j.t, stack, j.files[RELEASE_STACK_FILE]!, {}, { registryAuth: registryAuth(j), prune: false });
      if (j.deps.runner.dryRun) return;
      const r = await j.deps.runner.run(swarmAppScripts.waitJob(P.ssh, `${stack}_${RELEASE_JOB_SERVICE}`, app.config.deploy.health_timeout_seconds), { allowFailure: true });
      await j.deps.runner.run(swarmAppScripts.removeStack(P.ssh, stack), { allowFailure: true });
      if (r.exitCode !== 0) throw new StepError('release command', `"${app.config.release_command}" failed on cluster ${j.t.name}; nothing switched, ${serving(j)}.\n${r.stdout.trim()}`, { app: app.name });
    },
  },
  {
    name: 'start + health',
    leaves: notSwitched,
    run: async (j) => {
      const { app } = j.ctx;
      if (!hasSupport(j)) await pre_deploy(j);
      await deployStack(j.deps, j.t, appStack(app.name), step(j, j.replicas, true, `${j.id}: ${j.colour} colour`, true), extraFiles(j), { registryAuth: registryAuth(j) });
      await gate(j.deps, j.t, app.name, j.colour, j.id, j.replicas, app.config.deploy.health_timeout_seconds, serving(j));
    },
  },
  {
    name: 'edge ready',
    skip: (j) => !j.ctx.app.config.domains.length,
    leaves: notSwitched,
    run: (j) => edgesReady(j.deps, j.t, j.ctx.app.name, j.colour, j.replicas),
  },
  {
    name: 'switch',
    skip: (j) => !j.ctx.app.config.domains.length,
    leaves: (j) => `The route to ${j.colour} may be in force on some edges; rerun the deploy (it converges). ${serving(j)} until then.`,
    run: async (j) => {
      const { app } = j.ctx;
      // The record first: a deploy cut off after the switch is finished by the next run.
      j.record = releaseRecordOf(j);
      await writeFiles(j, [{ path: `${releaseDir(app.name, j.id)}/release.json`, content: JSON.stringify(j.record, null, 2) + '\n' }]);
      // The live colour's route restores the edges when the switch is not confirmed on all of them.
      j.switchMs = await switchEdges(j.deps, j.t, app, j.colour, j.files[routingFile(j.colour)]!, j.live && !j.fromHost ? j.files[routingFile(j.live.colour)] : undefined);
      j.switched = true;
      j.switchedAt = Date.now();
    },
  },
  {
    name: 'record',
    leaves: (j) => `The new release ${j.id} serves on ${j.colour}; rerun the deploy to record it.`,
    run: async (j) => {
      const { app } = j.ctx;
      j.record ??= releaseRecordOf(j);
      const current: CurrentRecord = { release: j.id, colour: j.colour, previous: j.live, switchedAt: j.deps.now().toISOString() };
      await writeFiles(j, [
        ...(j.switched ? [] : [{ path: `${releaseDir(app.name, j.id)}/release.json`, content: JSON.stringify(j.record, null, 2) + '\n' }]),
        { path: currentFile(app.name), content: JSON.stringify(current, null, 2) + '\n' },
      ]);
    },
  },
  {
    name: 'workers',
    // Nothing but the colours: the file would equal the one the gate step deployed.
    skip: (j) => !hasWorkersOrSupport(j.files[STACK_FILE]!) && !(j.liveStack && hasWorkersOrSupport(j.liveStack)),
    leaves: (j) => `The new release ${j.id} serves on ${j.colour}; its workers may still run the old release: rerun the deploy.`,
    run: async (j) => {
      // The whole release now, the old colour still as it runs until it retires.
      await deployStack(j.deps, j.t, appStack(j.ctx.app.name), step(j, j.replicas, false, `${j.id}: workers`), extraFiles(j), { registryAuth: registryAuth(j) });
    },
  },
  {
    name: 'retire',
    skip: (j) => !j.live || j.fromHost,
    leaves: (j) => `The new release ${j.id} serves on ${j.colour}; the old colour keeps running until the next deploy retires it.`,
    run: async (j) => {
      const { app } = j.ctx;
      const old = otherColour(j.colour);
      await j.deps.runner.run(swarmAppScripts.retireLater(j.t.primary.ssh, stackService(app.name, webService(old)), app.config.deploy.retire_seconds, old, currentFile(app.name), retirePidFile(app.name, old)));
    },
  },
  {
    name: 'prune',
    leaves: (j) => `The new release ${j.id} serves on ${j.colour}.`,
    run: async (j) => {
      try {
        await pruneCluster(j.deps, j.t, j.ctx.app.name, j.ctx.app.config.deploy.keep_releases, afterDeploy({ ...j.state, containers: [] }, j.record ?? releaseRecordOf(j), j.live?.release));
      } catch (err) {
        j.deps.log.warn(`${j.t.name}: pruning old releases of ${j.ctx.app.name} failed (the deploy itself succeeded): ${(err as Error).message.split('\n')[0]}`);
      }
      await runHook(j.deps, j.ctx.app, 'post_deploy', { BERTH_CLUSTER: j.t.name, BERTH_RELEASE: j.id });
    },
  },
];

async function pre_deploy(j: Job) {
  await runHook(j.deps, j.ctx.app, 'pre_deploy', { BERTH_CLUSTER: j.t.name, BERTH_RELEASE: j.id });
}

function swarmSecretNameOf(j: Job, name: string): string {
  return swarmSecretName(j.ctx.app.name, name, j.secretsVersion);
}

function releaseRecordOf(j: Job): ReleaseRecord {
  const { app, render } = j.ctx;
  const svc = j.state.services.find((s) => s.name === webService(j.colour));
  return {
    id: j.id, app: app.name, tag: render.release, image: render.image, imageId: j.state.imageId, digest: j.state.imageDigest,
    colour: j.colour, configHash: render.configHash, secretsHash: j.secretsHash, createdAt: j.deps.now().toISOString(),
    host: j.t.name, ...(svc ? { containerId: svc.id } : {}),
  };
}

async function writeFiles(j: Job, files: { path: string; content: string }[]) {
  await j.deps.runner.run(hostScripts.untar(j.t.primary.ssh), { stdinStream: packUpload(undefined, undefined, files.map((f) => ({ ...f, mode: 0o644 }))) });
}

/**
 * The health gate: `replicas` tasks of the colour at release `id`, each running (= healthy). On a
 * failure the colour goes back to 0 tasks (no crash loop), routing was never touched.
 */
export async function gate(deps: Deps, t: ClusterTarget, app: string, colour: Colour, id: string, replicas: number, timeoutSeconds: number, serving: string): Promise<void> {
  if (deps.runner.dryRun) return; // nothing was started: nothing to wait for
  const svc = stackService(app, webService(colour));
  const r = await deps.runner.run(swarmAppScripts.waitTasks(t.primary.ssh, svc, id, replicas, timeoutSeconds), { allowFailure: true });
  if (r.exitCode === 0 && /^healthy/m.test(r.stdout)) return;
  const logs = await deps.runner.run(swarmAppScripts.serviceLogs(t.primary.ssh, svc, 30), { allowFailure: true });
  await deps.runner.run(swarmAppScripts.scale(t.primary.ssh, svc, 0), { allowFailure: true });
  throw new HealthError(webService(colour), `cluster ${t.name}`, `${replicas} task(s) of ${id} did not all become healthy within ${timeoutSeconds}s (${(r.stdout || r.stderr).trim().split('\n').pop()}); routing unchanged, ${serving}`, logs.stdout.trim().split('\n').slice(-30));
}

/** Each edge's Traefik lists the colour's tasks, all UP (its swarm provider polls every second). */
export async function edgesReady(deps: Deps, t: ClusterTarget, app: string, colour: Colour, replicas: number, firstOnPrimary?: ScriptPart): Promise<void> {
  if (deps.runner.dryRun) {
    if (firstOnPrimary) await deps.runner.run(swarmAppScripts.chained(t.primary.ssh, firstOnPrimary));
    return;
  }
  const svc = `${swarmTraefikService(app, colour)}@swarm`;
  // `firstOnPrimary` (e.g. cancelling a retire) rides in the first manager's round trip.
  const check = (e: ClusterTarget['edges'][number]) => {
    const ready = swarmParts.edgeReady(svc, replicas);
    return e === t.primary && firstOnPrimary ? swarmAppScripts.chained(e.ssh, chainScripts(firstOnPrimary, ready)) : swarmAppScripts.chained(e.ssh, ready, false);
  };
  const results = await Promise.all(t.edges.map((e) => deps.runner.run(check(e), { allowFailure: true })));
  const late = t.edges.filter((_, i) => results[i]!.exitCode !== 0);
  if (late.length) throw new StepError('edge ready', `Traefik on ${late.map((e) => e.name).join(', ')} does not list ${replicas} healthy server(s) for ${svc} after 30s (${results.find((r) => r.exitCode !== 0)!.stdout.trim().slice(0, 200)}); routing unchanged. Is the edge up on every manager (npm run setup)?`, { app });
}

/**
 * Switch every edge to `colour` (in parallel; each a rename confirmed through its API). When an
 * edge does not confirm, every edge gets the previous routing back. Returns the slowest confirmation (ms).
 */
export async function switchEdges(deps: Deps, t: ClusterTarget, app: App, colour: Colour, routing: string, previousRouting?: string): Promise<number> {
  const names = routerNames(app.name);
  const router = `${app.config.tls.mode === 'none' ? names.http : names.https}@file`;
  const want = `${swarmTraefikService(app.name, colour)}@swarm`;
  const results = await Promise.all(t.edges.map((e) => deps.runner.run(swarmAppScripts.switchRoute(e.ssh, dynamicConfigFile(app.name), router, want, routing), { allowFailure: true })));
  if (results.some((r) => r.dryRun)) return 0;
  const failed = t.edges.filter((_, i) => results[i]!.exitCode !== 0 || !/^confirmed \d+/m.test(results[i]!.stdout));
  if (failed.length) {
    if (previousRouting) await Promise.all(t.edges.map((e) => deps.runner.run(hostScripts.writeFile(e.ssh, dynamicConfigFile(app.name), previousRouting, '644'), { allowFailure: true })));
    throw new StepError('switch', `Traefik on ${failed.map((e) => e.name).join(', ')} did not report ${want} for ${app.name} within 6s; ${previousRouting ? 'routing restored on every edge' : 'no earlier route to restore'}`, { app: app.name });
  }
  return Math.max(...results.map((r) => Number(/^confirmed (\d+)/m.exec(r.stdout)![1])));
}

/** Forget releases beyond keep_releases on the first manager, and the Swarm secrets only they used. */
export async function pruneCluster(deps: Deps, t: ClusterTarget, app: string, keep: number, state: Parameters<typeof planPrune>[0]): Promise<void> {
  // A colour service outlives its releases: only live, previous and the newest `keep` are kept.
  const plan = planPrune({ ...state, containers: [] }, keep, false);
  if (plan.pruned.length) await deps.runner.run(pruneScript(t.primary.ssh, releasesDir(app), `${appSecretsDir(app)}/releases`, plan.pruned, []));
  const versions = [...new Set(state.releases.filter((r) => plan.kept.includes(r.id)).map((r) => r.secretsHash.slice(0, 12)))];
  if (versions.length) await deps.runner.run(swarmAppScripts.pruneSecrets(t.primary.ssh, app, versions));
  if (plan.pruned.length) deps.log.info(`${t.name}: pruned ${plan.pruned.length} release(s) of ${app} beyond keep_releases=${keep}`);
}

/** What a deploy cut off after its switch left: the record, the old colour's retirement. */
async function finishInterrupted(deps: Deps, t: ClusterTarget, app: App, repair: Repair): Promise<void> {
  if (repair.record) {
    const current: CurrentRecord = { ...repair.record, switchedAt: deps.now().toISOString() };
    await deps.runner.run(hostScripts.writeFile(t.primary.ssh, currentFile(app.name), JSON.stringify(current, null, 2) + '\n', '644'));
    deps.log.warn(`${t.name}: recorded ${repair.record.release} on ${repair.record.colour} as live (an interrupted deploy had switched without recording)`);
  }
  if (repair.retire) {
    const c = repair.retire.colour;
    await deps.runner.run(swarmAppScripts.retireLater(t.primary.ssh, stackService(app.name, webService(c)), app.config.deploy.retire_seconds, c, currentFile(app.name), retirePidFile(app.name, c)));
    deps.log.warn(`${t.name}: retiring ${c}, left running by an interrupted deploy`);
  }
}

/** Pull the image on the first manager (it names the release: id, digest, entrypoint). */
async function ensureImageOnManager(deps: Deps, t: ClusterTarget, ctx: AppContext): Promise<void> {
  const { app, render, secrets } = ctx;
  const reg = registryOf(app.config);
  if (reg) {
    await deps.runner.run(dockerCmd.login(t.primary.context, reg.server, reg.username, secrets[reg.password_secret]!));
    // --with-registry-auth hands this machine's login to the nodes: log in here too.
    await deps.runner.run(dockerCmd.loginLocal(reg.server, reg.username, secrets[reg.password_secret]!));
  }
  await retrying(deps.log, `${t.primary.name}: pull ${render.image}`, REGISTRY, () => deps.runner.run(dockerCmd.pull(t.primary.context, render.image)));
}
