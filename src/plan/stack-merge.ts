// The stack file one step of a cluster deploy or rollback hands to `docker stack deploy` (PURE).
// `docker stack deploy` makes every service match the file, so the file must describe the live
// colour (and, before the switch, the workers) exactly as they run, while the colour being rolled
// out takes the new release's definition: those services are copied from the live release's own
// stack file. Copied secret references keep their Swarm names (a key per external name), so a
// copied service's spec, and with it its tasks, stay untouched.
import YAML from 'yaml';
import { type Colour, LITESTREAM_SERVICE, otherColour, webService } from '../names.ts';
import { toYaml } from './yaml.ts';

type Svc = Record<string, unknown> & { deploy?: Record<string, unknown>; secrets?: { source: string; target: string }[]; volumes?: string[] };
interface StackDoc {
  services: Record<string, Svc>;
  secrets?: Record<string, { external?: boolean; name?: string }>;
  volumes?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface StackStep {
  /** The stack file of the release being rolled out (concrete: secret names filled in). */
  release: string;
  /** The stack file of the release that serves now (undefined on a first deploy). */
  live?: string;
  /** The colour being rolled out. */
  colour: Colour;
  /** Tasks the rolled-out colour gets in this step (0 before the release command has run). */
  replicas: number;
  /** Keep the workers as the live release runs them (until the switch). */
  liveWorkers: boolean;
  /** What the step is, for the file's header. */
  what: string;
  /**
   * The replicator waits (0 tasks) when the live release runs none: on a first deploy it would
   * otherwise start beside the release command or the colour, both mounting the new, empty
   * database volume at once (the steps before the workers step set this).
   */
  holdReplicator?: boolean;
}

const isWorker = (name: string) => name.startsWith('worker-');

/** Copy `name` from `from` into `to`, its secrets keyed by their Swarm names and its volumes declared. */
function copyService(to: StackDoc, from: StackDoc, name: string): void {
  const svc = structuredClone(from.services[name]!);
  if (svc.secrets) {
    svc.secrets = svc.secrets.map((ref) => {
      const ext = from.secrets?.[ref.source]?.name ?? ref.source;
      to.secrets = { ...(to.secrets ?? {}), [ext]: { external: true, name: ext } };
      return { source: ext, target: ref.target ?? ref.source };
    });
  }
  for (const v of svc.volumes ?? []) {
    const key = typeof v === 'string' ? v.split(':')[0]! : '';
    if (key && !key.startsWith('/') && from.volumes?.[key] && !to.volumes?.[key]) to.volumes = { ...(to.volumes ?? {}), [key]: from.volumes[key] };
  }
  to.services[name] = svc;
}

export function mergeStack(step: StackStep): string {
  const doc = YAML.parse(step.release) as StackDoc;
  const live = step.live ? (YAML.parse(step.live) as StackDoc) : undefined;
  const other = webService(otherColour(step.colour));
  if (live?.services[other]) copyService(doc, live, other);
  else if (doc.services[other]?.deploy) doc.services[other].deploy!.replicas = 0;
  doc.services[webService(step.colour)]!.deploy!.replicas = step.replicas;
  const replicator = doc.services[LITESTREAM_SERVICE];
  if (step.holdReplicator && replicator?.deploy && !live?.services[LITESTREAM_SERVICE]) replicator.deploy.replicas = 0;
  if (step.liveWorkers) {
    for (const name of Object.keys(doc.services).filter(isWorker)) {
      if (live) delete doc.services[name];
      else doc.services[name]!.deploy!.replicas = 0;
    }
    for (const name of Object.keys(live?.services ?? {}).filter(isWorker)) copyService(doc, live!, name);
  }
  return toYaml(doc, ` Merged by Berth for one step of a deploy (${step.what}); not stored. The release's own stack.yml is on the first manager.`);
}

/** The replicas a stack file gives a service (for tests and the health gate). */
export function stackReplicas(text: string, service: string): number | undefined {
  const r = (YAML.parse(text) as StackDoc).services[service]?.deploy?.replicas;
  return typeof r === 'number' ? r : undefined;
}

/** Does a stack file run anything besides the two web colours (workers, replicator, accessories)? */
export function hasWorkersOrSupport(text: string): boolean {
  return Object.keys((YAML.parse(text) as StackDoc).services).some((n) => n !== 'web-blue' && n !== 'web-green');
}
