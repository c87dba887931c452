// `berth deploy <app>`: validate → render → image → (per host) observe → lock → upload → release
// command → start idle colour → health gate → switch → record → retire old colour.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import type { App, Project } from '../config/schema.ts';
import { compose, type ComposeTarget, dockerCmd } from '../docker/argv.ts';
import { splitCommand } from '../docker/command.ts';
import { hostScripts } from '../exec/host-scripts.ts';
import { acquireLock } from '../exec/lock.ts';
import { startColour, switchRoute } from '../exec/cutover.ts';
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
  litestreamConfigPath,
  lockDir,
  originCertHostFiles,
  releaseDir,
  releaseSecretsEnv,
  retirePidFile,
  webService,
} from '../names.ts';
import { planDeploy, releaseId } from '../plan/deploy-plan.ts';
import { routingFile, type AppRender } from '../plan/types.ts';
import { type Deps, phases } from './deps.ts';
import { ensureContext, type HostHandle, hostHandle } from './host.ts';
import { loadAppContext, runHook } from './app-context.ts';
import { backupPreflight } from './backup-preflight.ts';
import { StepError } from '../errors.ts';

export interface DeployOptions {
  app: string;
  release?: string;
  /** Skip the image step (benchmarks of hot deploys may still want it: default false). */
  skipImage?: boolean;
}

export interface HostOutcome {
  host: string;
  result: 'noop' | 'deployed';
  release: string;
  colour: Colour;
  timings: Record<string, number>;
  switchMs?: number;
  /** Epoch ms when Traefik's API confirmed the new colour (load tests compare request start times). */
  switchedAt?: number;
}

export async function deploy(deps: Deps, opts: DeployOptions): Promise<HostOutcome[]> {
  const ctx = await loadAppContext(deps, opts.app, opts.release);
  const { project, app, render, secrets } = ctx;
  const id = releaseId(render.release, render.configHash);
  const secretsHash = secretsDigest(secrets);
  deps.log.info(`release ${id}: ${render.image} → ${render.hosts.join(', ')} (${app.config.domains.join(', ') || 'no domains'})`);

  const hosts = render.hosts.map((n) => hostHandle(n, project.hosts[n]!));
  if (!opts.skipImage) await prepareImageLocally(deps, app, render, secrets);

  const outcomes: HostOutcome[] = [];
  for (const h of hosts) outcomes.push(await deployToHost(deps, { project, app, render, secrets, id, secretsHash, h, skipImage: !!opts.skipImage }));
  return outcomes;
}

interface HostJob {
  project: Project;
  app: App;
  render: AppRender;
  secrets: Record<string, string>;
  id: string;
  secretsHash: string;
  h: HostHandle;
  skipImage: boolean;
}

export async function observeApp(deps: Deps, h: HostHandle, app: string): Promise<AppState> {
  const out = await deps.runner.run(hostScripts.observeApp(h.ssh, appDir(app), app));
  return parseObservation(out.stdout);
}

async function deployToHost(deps: Deps, job: HostJob): Promise<HostOutcome> {
  const { h, app, render, id } = job;
  const { timings, phase } = phases(deps.log, h.name);

  const state = await phase('observe', async () => {
    await ensureContext(deps.runner, h);
    return observeApp(deps, h, app.name);
  });
  const decision = planDeploy(state, id, job.secretsHash);
  if (decision.kind === 'noop') {
    deps.log.info(`${h.name}: nothing changed (${decision.reason}); no container touched`);
    return { host: h.name, result: 'noop', release: id, colour: decision.colour, timings };
  }
  const colour = decision.colour;
  const lock = await phase('lock', () => acquireLock(deps.runner, h.ssh, lockDir(app.name), `deploy ${app.name} ${id}`, { host: h.name, app: app.name, now: deps.now() }));
  if (lock.takenOver) deps.log.warn(`${h.name}: took over a lock left by a dead deploy`);
  const beat = setInterval(() => void lock.heartbeat(), 30_000);
  try {
    await phase('upload', () => uploadRelease(deps, job));
    const target = composeTarget(deps, h, app.name, job.secrets);
    if (!job.skipImage) await phase('image', () => ensureImageOnHost(deps, h, app, render, job.secrets));
    await runHook(deps, app, 'pre_deploy', { BERTH_HOST: h.name, BERTH_RELEASE: id });
    await phase('support services', () => startSupportServices(deps, target, render));
    if (app.config.litestream) await phase('backup pre-flight', () => backupPreflight(deps, h, app, id));
    if (app.config.release_command) {
      await phase('release command', async () => {
        const res = await deps.runner.run(compose.run(target, webService(colour), splitCommand(app.config.release_command!)), { allowFailure: true });
        if (res.exitCode !== 0) {
          throw new StepError('release command', `"${app.config.release_command}" failed (exit ${res.exitCode}) on ${h.name}; nothing switched, the old release keeps serving.\n${tail(res.stdout + res.stderr)}`);
        }
      });
    }
    const cut = {
      runner: deps.runner, ssh: h.ssh, host: h.name, app: app.name, target, colour, port: app.config.port,
      routing: fileOf(render, routingFile(colour)), healthTimeoutSeconds: app.config.deploy.health_timeout_seconds,
      previousRouting: decision.live ? fileOf(render, routingFile(decision.live.colour)) : undefined,
    };
    const containerId = await phase('start + health', async () => {
      await deps.runner.run(hostScripts.cancelRetire(h.ssh, retirePidFile(app.name, colour)));
      return startColour(cut);
    });
    const switchMs = await phase('switch', () => (app.config.domains.length ? switchRoute(cut) : Promise.resolve(0)));
    const switchedAt = Date.now();
    await phase('workers', () => startWorkers(deps, target, render));
    await phase('record', () => recordRelease(deps, job, colour, containerId, decision.live ? { release: decision.live.release, colour: decision.live.colour } : null));
    if (decision.live?.containerId) {
      await phase('retire', () =>
        deps.runner.run(hostScripts.retireLater(h.ssh, decision.live!.containerId!, decision.live!.colour, currentFile(app.name), retirePidFile(app.name, decision.live!.colour), app.config.deploy.retire_seconds, app.config.deploy.stop_timeout_seconds)),
      );
    }
    await runHook(deps, app, 'post_deploy', { BERTH_HOST: h.name, BERTH_RELEASE: id });
    deps.log.info(`${h.name}: ${app.name} ${id} live on ${colour}`);
    return { host: h.name, result: 'deployed', release: id, colour, timings, switchMs, switchedAt };
  } finally {
    clearInterval(beat);
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
async function uploadRelease(deps: Deps, job: HostJob) {
  const { app, render, id, secrets } = job;
  const extra: MemoryEntry[] = [
    { path: appSecretsDir(app.name), type: 'directory', mode: 0o700 },
    { path: `${appSecretsDir(app.name)}/releases`, type: 'directory', mode: 0o700 },
    { path: `${appSecretsDir(app.name)}/files`, type: 'directory', mode: 0o700 },
    { path: appSecretsEnv(app.name), content: formatSecretsEnv(secrets), mode: 0o600 },
    { path: releaseSecretsEnv(app.name, id), content: formatSecretsEnv(secrets), mode: 0o600 },
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
  const stream = packUpload(join(deps.root, 'compose', app.name), releaseDir(app.name, id), extra);
  await deps.runner.run(hostScripts.untar(job.h.ssh), { stdinStream: stream });
}

async function recordRelease(deps: Deps, job: HostJob, colour: Colour, containerId: string, previous: CurrentRecord['previous']) {
  const { h, app, render, id } = job;
  const img = await deps.runner.run(dockerCmd.imageInspect(h.context, render.image), { allowFailure: true });
  const { imageId, digest } = parseImageInspect(img.stdout);
  const record: ReleaseRecord = {
    id, app: app.name, tag: render.release, image: render.image, imageId, digest,
    colour, configHash: render.configHash, secretsHash: job.secretsHash, gitCommit: await deps.gitCommit(),
    createdAt: deps.now().toISOString(), host: h.name, containerId,
  };
  const current: CurrentRecord = { release: id, colour, previous, switchedAt: deps.now().toISOString() };
  const stream = packUpload(undefined, undefined, [
    { path: `${releaseDir(app.name, id)}/release.json`, content: JSON.stringify(record, null, 2) + '\n', mode: 0o644 },
    { path: currentFile(app.name), content: JSON.stringify(current, null, 2) + '\n', mode: 0o644 },
  ]);
  await deps.runner.run(hostScripts.untar(h.ssh), { stdinStream: stream });
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
    await deps.runner.run(dockerCmd.pushLocal(render.image));
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
  await deps.runner.run(dockerCmd.pull(h.context, render.image));
}

// ---------------------------------------------------------------- helpers

const tail = (text: string, n = 20) => text.trim().split('\n').slice(-n).join('\n');


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
