// `berth start <app>` and `berth restart <app>` (Kamal's `app boot`): bring the live release back
// where it was stopped. Docker's restart policy restarts neither a `docker stop`ped nor a `docker
// kill`ed container, so a stopped live colour is an outage until someone acts: `start` starts what
// of the live release is down (the live colour behind the health gate, then workers, the
// replicator, accessories and backup loops), from the release's own files and secret set; `restart`
// restarts the live colour and workers in place as well. Any deploy, a no-op included, does the
// same repair (src/plan/deploy-plan.ts).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { loadProject } from '../config/load.ts';
import { filterHosts, type HostFilter } from '../config/host-filter.ts';
import type { App } from '../config/schema.ts';
import { compose, type ComposeTarget } from '../docker/argv.ts';
import { StepError } from '../errors.ts';
import { startColour } from '../exec/cutover.ts';
import { hostScripts, observeAppPart } from '../exec/host-scripts.ts';
import { acquireLock } from '../exec/lock.ts';
import { containerFor, parseObservation } from '../exec/state.ts';
import { packUpload } from '../exec/transfer.ts';
import { appDir, type Colour, dynamicConfigFile, lockDir, otherColour, webService } from '../names.ts';
import { isDown } from '../plan/deploy-plan.ts';
import { restoreNote } from '../plan/restore-journal.ts';
import { findApp } from './app-context.ts';
import { composeTarget } from './app-on-host.ts';
import { type Deps, phases } from './deps.ts';
import { ensureDockerContext, hostHandle, type HostHandle, prepareSsh } from './host.ts';
import { composeEnvOf, fetchRelease, secretSetEntries } from './release-files.ts';

export interface StartOutcome {
  host: string;
  release: string;
  colour: Colour;
  /** Services started (or restarted) on this host; empty when everything already ran. */
  started: string[];
}

/** Services of a release that should run while `colour` is live: all but the idle colour and those with a profile (the release command's: `up` never starts it). */
export function liveServices(composeYml: string, colour: Colour): string[] {
  const services = (YAML.parse(composeYml) as { services?: Record<string, { profiles?: unknown } | null> })?.services ?? {};
  return Object.keys(services).filter((s) => s !== webService(otherColour(colour)) && !services[s]?.profiles);
}

/**
 * Start `services` of the release behind `target`: the live colour first, behind the health gate
 * (its route already points at it), then the others.
 */
export async function startReleaseServices(deps: Deps, h: HostHandle, app: App, target: ComposeTarget, colour: Colour, services: string[]): Promise<void> {
  const web = webService(colour);
  if (services.includes(web)) {
    await startColour({
      runner: deps.runner, ssh: h.ssh, host: h.name, app: app.name, target, colour, port: app.config.port, routing: '',
      healthTimeoutSeconds: app.config.deploy.health_timeout_seconds,
    });
  }
  const rest = services.filter((s) => s !== web);
  if (rest.length) await deps.runner.run(compose.up(target, rest));
}

export async function start(deps: Deps, opts: { app: string; restart?: boolean; only?: HostFilter }): Promise<StartOutcome[]> {
  const project = await loadProject(deps.root);
  const app = findApp(project, opts.app);
  // On a cluster Swarm itself keeps the desired tasks running; a deploy of the live release repairs the rest.
  if (app.config.cluster) throw new StepError(opts.restart ? 'restart' : 'start', `${app.name} runs on cluster ${app.config.cluster}: Swarm restarts its tasks itself; deploy it to repair a service`);
  const out: StartOutcome[] = [];
  for (const name of filterHosts(app, project.hosts, opts.only)) {
    const h = hostHandle(name, project.hosts[name]!);
    const { phase } = phases(deps.log, name);
    await phase('connect', async () => {
      await prepareSsh(deps.runner, h);
      await ensureDockerContext(deps.runner, h);
    });
    const verb = opts.restart ? 'restart' : 'start';
    const observe = observeAppPart(appDir(app.name), app.name, { route: dynamicConfigFile(app.name) });
    const lock = await phase('lock', () => acquireLock(deps.runner, h.ssh, lockDir(app.name), `${verb} ${app.name}`, { host: name, app: app.name, now: deps.now(), then: observe }));
    const dir = await mkdtemp(join(tmpdir(), 'berth-start-'));
    try {
      const state = parseObservation(lock.thenOutput ?? (await deps.runner.run(hostScripts.observeApp(h.ssh, appDir(app.name), app.name, { route: dynamicConfigFile(app.name) }))).stdout);
      if (!state.current) throw new StepError(verb, `${app.name} is not deployed on ${name}: run npm run deploy -- ${app.name}`);
      if (state.restore) throw new StepError(verb, `${name}: ${restoreNote(app.name, state.restore)}`);
      const { release, colour } = state.current;
      const values = await phase('release files', () => fetchRelease(deps, h, app.name, release, dir));
      const composeYml = await readFile(join(dir, 'compose.yml'), 'utf8');
      const target = composeTarget(deps, h, app.name, composeEnvOf(values), dir);
      const wanted = liveServices(composeYml, colour);
      const down = wanted.filter((s) => isDown(containerFor(state, s)));
      // restart: the live colour and workers too (in place: a brief gap while the colour restarts).
      const bounce = opts.restart ? wanted.filter((s) => (s === webService(colour) || s.startsWith('worker-')) && !down.includes(s)) : [];
      if (!down.length && !bounce.length) {
        deps.log.info(`${name}: ${app.name} ${release} already runs on ${colour} (${wanted.join(', ')}); nothing to start`);
        out.push({ host: name, release, colour, started: [] });
        continue;
      }
      // The release's own secret set (content-addressed: rewriting it changes no value).
      if (composeYml.includes('BERTH_SECRETS_ID')) {
        await deps.runner.run(hostScripts.untar(h.ssh), { stdinStream: packUpload(undefined, undefined, secretSetEntries(app.name, values)) });
      }
      if (bounce.length) await phase('stop', () => deps.runner.run(compose.stop(target, bounce, app.config.deploy.stop_timeout_seconds)));
      const services = [...new Set([...bounce, ...down])];
      await phase(verb, () => startReleaseServices(deps, h, app, target, colour, services));
      deps.log.info(`${name}: ${app.name} ${release} on ${colour}: ${verb === 'restart' ? 'restarted' : 'started'} ${services.join(', ')}`);
      out.push({ host: name, release, colour, started: services });
    } finally {
      await lock.release();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return out;
}
