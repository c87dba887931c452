// One host's deploy when it runs an app's workers and/or accessories but no web (placement across
// hosts): no colour, no route, no release command. observe → (nothing changed? stop) → lock →
// image (if it runs workers) → upload its release folder and secrets → accessories and backup loops
// (the hosts reaching them are told they are up) → workers → record → prune.
import { dockerCmd } from '../docker/argv.ts';
import { hostScripts } from '../exec/host-scripts.ts';
import { acquireLock } from '../exec/lock.ts';
import { parseObservation, type ReleaseRecord } from '../exec/state.ts';
import { packUpload } from '../exec/transfer.ts';
import { appDir, currentFile, dynamicConfigFile, lockDir, releaseDir } from '../names.ts';
import { releaseId } from '../plan/deploy-plan.ts';
import { planServicesDeploy } from '../plan/services-plan.ts';
import { imageExecEnv } from '../plan/secret-env.ts';
import { observeAppPart } from '../exec/host-scripts.ts';
import { afterDeploy } from '../plan/prune-plan.ts';
import { restoreNote } from '../plan/restore-journal.ts';
import { StepError } from '../errors.ts';
import { runHook } from './app-context.ts';
// The steps shared with web hosts come from deploy.ts, passed in (a type-only import: no cycle).
import type { HostJob, HostOutcome, ServiceSteps } from './deploy.ts';
import { type Deps, phases } from './deps.ts';
import { ensureDockerContext, hostReachable, prepareSsh } from './host.ts';
import { imageExecOnHost } from './image-exec.ts';
import { pruneAfterDeploy } from './prune.ts';

export async function deployServicesToHost(deps: Deps, job: HostJob, steps: ServiceSteps): Promise<HostOutcome> {
  const { composeTarget, ensureImageOnHost, observeApp, parseImageInspect, reachAccessories, startSupportServices, startWorkers, supportServices, uploadRelease, workerServices } = steps;
  const { h, app, render } = job;
  const on = job.placement.on[h.name]!;
  // Only a host running workers needs the app's image (and names it in its release id).
  const pulled = !app.config.build && on.image;
  const image = pulled ? render.image : undefined;
  let id = job.id;
  const { timings, phase } = phases(deps.log, h.name, {
    reachable: () => hostReachable(deps.runner, h),
    leftState: () => `${h.name} runs no web: nothing it serves changed; rerun the deploy when the host answers (it converges).`,
  });
  const { waited, started } = supportServices({ files: job.files });
  const workers = workerServices({ files: job.files });
  const services = [...waited, ...started, ...workers];

  let state = await phase('observe', async () => {
    await prepareSsh(deps.runner, h);
    return observeApp(deps, h, app.name, image);
  });
  // A backup:restore that runs or was cut off owns the app's containers until it is finished.
  if (state.restore) throw new StepError('deploy', `${h.name}: ${restoreNote(app.name, state.restore)}; then deploy again (nothing was changed)`, { app: app.name, host: h.name });
  if (pulled && !state.imageId && !job.skipImage) {
    await ensureDockerContext(deps.runner, h);
    await phase('image', () => ensureImageOnHost(deps, h, app, render, job.secrets));
    state.imageId = parseImageInspect((await deps.runner.run(dockerCmd.imageInspect(h.context, render.image), { allowFailure: true })).stdout).imageId;
  }
  if (pulled && state.imageId) id = releaseId(render.release, render.configHash, state.imageId);
  const optimistic = planServicesDeploy(state, id, job.secretsHash, services);
  if (optimistic.kind === 'noop') {
    deps.log.info(`${h.name}: nothing changed (${optimistic.reason}); no container touched`);
    return { host: h.name, result: 'noop', release: id, timings };
  }
  const contextReady = ensureDockerContext(deps.runner, h);
  contextReady.catch(() => {});
  const lock = await phase('lock', () =>
    acquireLock(deps.runner, h.ssh, lockDir(app.name), `deploy ${app.name} ${id}`, { host: h.name, app: app.name, now: deps.now(), then: observeAppPart(appDir(app.name), app.name, { route: dynamicConfigFile(app.name), image }) }),
  );
  if (lock.takenOver) deps.log.warn(`${h.name}: took over a lock left by a dead deploy (${lock.takeoverReason ?? 'its holder stopped'})`);
  try {
    state = lock.thenOutput !== undefined ? parseObservation(lock.thenOutput) : await phase('observe (locked)', () => observeApp(deps, h, app.name, image));
    const decision = planServicesDeploy(state, id, job.secretsHash, services, { underLock: true });
    if (decision.kind === 'noop') {
      deps.log.info(`${h.name}: nothing changed (${decision.reason}); no container touched`);
      return { host: h.name, result: 'noop', release: id, timings };
    }
    await contextReady;
    let exec: Record<string, string> = {};
    if (on.image) {
      const seen = pulled && state.imageId && state.imageExec ? state.imageExec : undefined;
      if (!job.skipImage && !seen) await phase('image', () => ensureImageOnHost(deps, h, app, render, job.secrets));
      exec = seen ? imageExecEnv(seen.entrypoint, seen.cmd) : await phase('image config', () => imageExecOnHost(deps, h, render.image));
    }
    const hostJob = { ...job, id };
    await phase('upload', () => uploadRelease(deps, hostJob, exec));
    // Compose gets no secret value: the image's entrypoint/command and the secret set ids (secret-sets.ts).
    const target = composeTarget(deps, h, app.name, { ...exec, ...job.setEnv }, job.composeDir);
    if (on.image) await runHook(deps, app, 'pre_deploy', { BERTH_HOST: h.name, BERTH_RELEASE: id });
    if (waited.length || started.length) await phase('support services', () => startSupportServices(deps, target, { files: job.files }));
    job.accessoriesReady.settle(h.name);
    if (on.image) await reachAccessories(deps, hostJob, phase);
    if (workers.length) await phase('workers', () => startWorkers(deps, target, { files: job.files }));
    const img = on.image ? parseImageInspect((await deps.runner.run(dockerCmd.imageInspect(h.context, render.image), { allowFailure: true })).stdout) : {};
    const record: ReleaseRecord = {
      id, app: app.name, tag: render.release, image: on.image ? render.image : '', ...img,
      configHash: render.configHash, secretsHash: job.secretsHash, gitCommit: await deps.gitCommit(), createdAt: deps.now().toISOString(), host: h.name,
    };
    // No colour here: current.json names the release and the one before it (what rollback goes back to).
    const current = { release: id, previous: decision.previous ? { release: decision.previous } : null, switchedAt: deps.now().toISOString(), services };
    await phase('record', () =>
      deps.runner.run(hostScripts.untar(h.ssh), {
        stdinStream: packUpload(undefined, undefined, [
          { path: `${releaseDir(app.name, id)}/release.json`, content: JSON.stringify(record, null, 2) + '\n', mode: 0o644 },
          { path: currentFile(app.name), content: JSON.stringify(current, null, 2) + '\n', mode: 0o644 },
        ]),
      }),
    );
    await phase('prune', () => pruneAfterDeploy(deps, h, app, afterDeploy(state, record, decision.previous ?? undefined)));
    if (on.image) await runHook(deps, app, 'post_deploy', { BERTH_HOST: h.name, BERTH_RELEASE: id });
    if (deps.runner.dryRun) {
      deps.log.info(`${h.name}: dry run — ${app.name} ${id} would run ${services.join(', ') || 'nothing'} here; nothing was written or started`);
      return { host: h.name, result: 'dry-run', release: id, timings };
    }
    deps.log.info(`${h.name}: ${app.name} ${id} runs ${services.join(', ')} (no web here)`);
    return { host: h.name, result: 'deployed', release: id, timings, record };
  } finally {
    await lock.release();
  }
}
