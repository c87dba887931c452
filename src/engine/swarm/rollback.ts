// Roll a cluster app back (the Swarm engine): to the previous release (or --to one), which the idle
// colour usually still holds. Inside the retire window its tasks still run: the rollback is a route
// switch on every edge. After it, the colour is scaled back up with its stored spec (or, for an
// older release, deployed from that release's own stack file), behind the same health gate. The
// workers then come back to the release too; the colour rolled away from retires later.
import type { App, Project } from '../../config/schema.ts';
import { registryOf } from '../../config/registry.ts';
import { audited } from '../../app/audit.ts';
import type { Deps } from '../../app/deps.ts';
import { ensureDockerContext, hostReachable, prepareSsh } from '../../app/host.ts';
import type { RollbackOutcome } from '../../app/rollback.ts';
import { StepError } from '../../errors.ts';
import { chainScripts, hostScripts, THEN_MARKER, thenOutput } from '../../exec/host-scripts.ts';
import { acquireLock } from '../../exec/lock.ts';
import type { CurrentRecord, ReleaseRecord } from '../../exec/state.ts';
import { parseFiles, swarmAppScripts, swarmParts } from '../../exec/swarm-app-scripts.ts';
import { packUpload } from '../../exec/transfer.ts';
import { appDir, appStack, type Colour, currentFile, dynamicConfigFile, lockDir, otherColour, releaseDir, retirePidFile, stackService, webService } from '../../names.ts';
import { planRollback } from '../../plan/deploy-plan.ts';
import { STACK_FILE } from '../../plan/render-stack.ts';
import { hasWorkersOrSupport, mergeStack, stackReplicas } from '../../plan/stack-merge.ts';
import { routingFile } from '../../plan/types.ts';
import { runSteps, type Step } from '../steps.ts';
import type { RollbackRequest } from '../engine.ts';
import { type ClusterTarget, clusterTarget, deployStack, observeCluster, readReleaseFiles, refuseHostFilter } from './cluster.ts';
import { edgesReady, gate, switchEdges } from './deploy.ts';
import { type ClusterAppState, parseClusterObservation, serviceOf } from './state.ts';

interface Job {
  deps: Deps;
  app: App;
  t: ClusterTarget;
  target: ReleaseRecord;
  colour: Colour;
  live: { release: string; colour: Colour };
  state: ClusterAppState;
  /** The target release's stored files, and the live release's stack. */
  files: Record<string, string>;
  liveStack: string;
  replicas: number;
  /** The idle colour still runs the target release's tasks, all healthy (inside the retire window). */
  reuse: boolean;
  switched?: boolean;
  switchedAt?: number;
}

export async function rollbackCluster(deps: Deps, project: Project, app: App, req: RollbackRequest): Promise<RollbackOutcome[]> {
  refuseHostFilter(app, req.only);
  const t = clusterTarget(project, app);
  const P = t.primary;
  await prepareSsh(deps.runner, P);
  const [, observed] = await Promise.all([ensureDockerContext(deps.runner, P), observeCluster(deps, t, app.name)]);
  const d = planRollback(observed, req.to);
  if (d.kind === 'refuse') throw new StepError('rollback', `cluster ${t.name}: ${d.reason}`, { app: app.name });
  const planned = { release: d.target.id, image: d.target.image, imageId: d.target.imageId, digest: d.target.digest, configHash: d.target.configHash, previous: d.live.release };
  const timings: Record<string, number> = {};
  return [
    await audited(deps, P, app.name, 'rollback', [], planned, async (): Promise<RollbackOutcome> => {
      // The lock's round trip also reads the state again and the files of the planned rollback.
      const names = [STACK_FILE, routingFile('blue'), routingFile('green'), 'litestream.yml'];
      const wanted = (target: string, live: string) => [...names.map((file) => ({ release: target, file })), { release: live, file: STACK_FILE }];
      const paths = (w: { release: string; file: string }[]) => w.map((x) => `${releaseDir(app.name, x.release)}/${x.file}`);
      const observe = swarmAppScripts.observePart(appDir(app.name), app.name, appStack(app.name), { route: dynamicConfigFile(app.name) });
      const lock = await acquireLock(deps.runner, P.ssh, lockDir(app.name), `rollback ${app.name} to ${d.target.id}`, {
        host: P.name, app: app.name, now: deps.now(), then: chainScripts(observe, swarmParts.readFiles(paths(wanted(d.target.id, d.live.release)))),
      });
      try {
        const out = lock.thenOutput;
        const second = out !== undefined ? thenOutput(out) : undefined;
        const state = out !== undefined ? parseClusterObservation(second !== undefined ? out.slice(0, out.indexOf(`\n${THEN_MARKER}\n`)) : out, app.name) : observed;
        const again = planRollback(state, req.to);
        if (again.kind === 'refuse') throw new StepError('rollback', `cluster ${t.name}: ${again.reason}`, { app: app.name });
        const want = wanted(again.target.id, again.live.release);
        const read = second !== undefined && again.target.id === d.target.id && again.live.release === d.live.release ? parseFiles(second) : undefined;
        const got = read ? paths(want).map((p) => read[p]) : await readReleaseFiles(deps, t, app.name, want);
        const files = Object.fromEntries(names.map((n, i) => [n, got[i]]).filter(([, c]) => c !== undefined)) as Record<string, string>;
        const liveStack = got[names.length];
        if (!files[STACK_FILE] || !liveStack) {
          throw new StepError('rollback', `the stack file of ${!files[STACK_FILE] ? again.target.id : again.live.release} is missing on ${P.name}; nothing was changed`, { app: app.name });
        }
        const colour = again.colour;
        const replicas = stackReplicas(files[STACK_FILE], webService(colour)) ?? 1;
        const idle = serviceOf(state, webService(colour));
        const reuse = !!idle && idle.releaseId === again.target.id && idle.desired === replicas && idle.running >= replicas;
        const job: Job = { deps, app, t, target: again.target, colour, live: { release: again.live.release, colour: again.live.colour }, state, files, liveStack, replicas, reuse };
        await runSteps(deps, { name: t.name, reachable: () => hostReachable(deps.runner, P) }, ROLLBACK_STEPS, job, timings);
        deps.log.info(`${t.name}: ${app.name} rolled back to ${job.target.id} on ${colour}${reuse ? ' (its tasks were still running)' : ''}`);
        return { host: t.name, release: job.target.id, colour, reused: reuse, timings, switchedAt: job.switchedAt ?? Date.now(), previous: job.live.release };
      } finally {
        await lock.release();
      }
    }),
  ];
}

const serving = (j: Job) => `${j.live.release} keeps serving on ${j.live.colour}`;
const notSwitched = (j: Job) => `Nothing switched: ${serving(j)}. Rerun the rollback.`;
const extraFiles = (j: Job): Record<string, string> => (j.files['litestream.yml'] ? { 'litestream.yml': j.files['litestream.yml'] } : {});
const routed = (j: Job) => j.app.config.domains.length > 0;

const ROLLBACK_STEPS: readonly Step<Job>[] = [
  {
    name: 'start + health',
    skip: (j) => j.reuse,
    leaves: notSwitched,
    run: async (j) => {
      await j.deps.runner.run(swarmAppScripts.cancelRetire(j.t.primary.ssh, retirePidFile(j.app.name, j.colour)));
      const idle = serviceOf(j.state, webService(j.colour));
      if (idle?.releaseId === j.target.id) {
        // The colour's spec is still the target release's: only its tasks come back.
        await j.deps.runner.run(swarmAppScripts.scale(j.t.primary.ssh, stackService(j.app.name, webService(j.colour)), j.replicas));
      } else {
        // An older release: its own stack file for this colour, everything else as it runs now.
        await deployStack(j.deps, j.t, appStack(j.app.name), mergeStack({ release: j.files[STACK_FILE]!, live: j.liveStack, colour: j.colour, replicas: j.replicas, liveWorkers: true, what: `rollback to ${j.target.id}` }), extraFiles(j), { registryAuth: !!registryOf(j.app.config) });
      }
      await gate(j.deps, j.t, j.app.name, j.colour, j.target.id, j.replicas, j.app.config.deploy.health_timeout_seconds, serving(j));
    },
  },
  {
    name: 'switch',
    skip: (j) => !routed(j),
    leaves: (j) => `The route to ${j.colour} may be in force on some edges; rerun the rollback. ${serving(j)} until then.`,
    run: async (j) => {
      // Inside the retire window the colour's tasks run: cancel its retire (in the first manager's
      // readiness check), check every edge lists them.
      await edgesReady(j.deps, j.t, j.app.name, j.colour, j.replicas, j.reuse ? swarmParts.cancelRetire(retirePidFile(j.app.name, j.colour)) : undefined);
      const routing = j.files[routingFile(j.colour)];
      if (!routing) throw new StepError('switch', `${routingFile(j.colour)} of ${j.target.id} is missing on ${j.t.primary.name}`, { app: j.app.name });
      await switchEdges(j.deps, j.t, j.app, j.colour, routing, j.files[routingFile(j.live.colour)]);
      j.switched = true;
      j.switchedAt = Date.now();
    },
  },
  {
    name: 'record + retire',
    leaves: (j) => `Release ${j.target.id} serves again on ${j.colour}; rerun the rollback to record it.`,
    run: async (j) => {
      const current: CurrentRecord = { release: j.target.id, colour: j.colour, previous: j.live, switchedAt: j.deps.now().toISOString() };
      // One round trip: the record, then the old colour's delayed scale-down.
      const old = otherColour(j.colour);
      const retire = swarmParts.retireLater(stackService(j.app.name, webService(old)), j.app.config.deploy.retire_seconds, old, currentFile(j.app.name), retirePidFile(j.app.name, old));
      await j.deps.runner.run(hostScripts.untar(j.t.primary.ssh, retire), { stdinStream: packUpload(undefined, undefined, [{ path: currentFile(j.app.name), content: JSON.stringify(current, null, 2) + '\n', mode: 0o644 }]) });
    },
  },
  {
    name: 'workers + replicator',
    // Nothing but the colours on either side: there is nothing to bring back.
    skip: (j) => !hasWorkersOrSupport(j.files[STACK_FILE]!) && !hasWorkersOrSupport(j.liveStack),
    leaves: (j) => `Release ${j.target.id} serves on ${j.colour}; its workers may still run ${j.live.release}: rerun the rollback.`,
    run: async (j) => {
      // The release's whole stack (workers, replicator, accessories), the old colour as it runs.
      await deployStack(j.deps, j.t, appStack(j.app.name), mergeStack({ release: j.files[STACK_FILE]!, live: j.liveStack, colour: j.colour, replicas: j.replicas, liveWorkers: false, what: `rollback to ${j.target.id}: workers` }), extraFiles(j), { registryAuth: !!registryOf(j.app.config) });
    },
  },
];
