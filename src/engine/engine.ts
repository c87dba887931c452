// The seam between Berth's use cases and the engine that runs an app (issue 21, item 8). `deploy`
// and `rollback` load and validate once, then hand the app to its engine:
//   - host  (src/app/deploy.ts, src/app/rollback.ts): per host, a compose project with two colours;
//   - swarm (src/engine/swarm/): one Swarm stack on a cluster, the same two colours as services.
// Each engine runs its work as a list of named steps over a target (runSteps in ./steps.ts), each
// step saying what is left serving when it fails; the per-host pipeline is to move onto the same
// runner (one step list per use case) once the work now in deploy.ts/rollback.ts has merged.
import type { App, Project } from '../config/schema.ts';
import type { AppContext } from '../app/app-context.ts';
import type { Deps } from '../app/deps.ts';
import type { DeployOptions, HostOutcome } from '../app/deploy.ts';
import type { RollbackOutcome } from '../app/rollback.ts';
import type { HostFilter } from '../config/host-filter.ts';

export type EngineName = 'host' | 'swarm';

export interface RollbackRequest {
  to?: string;
  only?: HostFilter;
}

/** What the use cases ask of an engine; both engines answer with the same outcome shapes. */
export interface Engine {
  readonly name: EngineName;
  /** `prepareImage` builds and pushes a locally built image (engine-neutral, done by the use case). */
  deploy(deps: Deps, ctx: AppContext, opts: DeployOptions, prepareImage: () => Promise<void>): Promise<HostOutcome[]>;
  rollback(deps: Deps, project: Project, app: App, req: RollbackRequest): Promise<RollbackOutcome[]>;
}

export const engineName = (app: App): EngineName => (app.config.cluster ? 'swarm' : 'host');
