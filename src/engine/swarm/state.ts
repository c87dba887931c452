// What Berth knows about a cluster app (PURE parsing of the first manager's observation): the
// per-host sections (lock, current, releases, retire timers, image) plus the stack's services. The
// web colours become ContainerInfo rows (a service is "running" when all its desired tasks run), so
// the per-host planner (deploy-plan.ts) decides deploys and rollbacks on a cluster too.
import { type AppState, type ContainerInfo, parseObservation } from '../../exec/state.ts';
import { appStack, type Colour, COLOURS, webService } from '../../names.ts';

export interface ServiceState {
  id: string;
  /** Name inside the stack (web-blue, worker-jobs, litestream…). */
  name: string;
  releaseId?: string;
  /** Desired replicas (undefined for a job or global service). */
  desired?: number;
  running: number;
}

export interface ClusterAppState extends AppState {
  services: ServiceState[];
}

export function parseClusterObservation(out: string, app: string): ClusterAppState {
  const base = parseObservation(out);
  const services = new Map<string, ServiceState>();
  const running = new Map<string, number>();
  let section = '';
  const prefix = `${appStack(app)}_`;
  for (const line of out.split('\n')) {
    if (line.startsWith('--')) {
      section = line.slice(2).trim();
      continue;
    }
    if (!line.trim()) continue;
    if (section === 'swarm-route') {
      const m = /-(blue|green)@swarm/.exec(line);
      if (m) base.routedColour = m[1] as Colour;
    } else if (section === 'services') {
      const [id = '', full = '', rel = '', desired = '-'] = line.split('|');
      if (!full.startsWith(prefix)) continue;
      services.set(full, { id, name: full.slice(prefix.length), releaseId: rel || undefined, desired: desired === '-' ? undefined : Number(desired), running: 0 });
    } else if (section === 'running') {
      const [full = '', rep = ''] = line.split('|');
      const m = /^(\d+)\/(\d+)/.exec(rep);
      if (m) running.set(full, Number(m[1]));
    }
  }
  for (const [full, s] of services) s.running = running.get(full) ?? 0;
  const list = [...services.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  // The web colours as the planner's rows: running with every desired task up; degraded (a node
  // lost, tasks rescheduling) still serves; scaled to 0 is a stopped colour.
  const containers: ContainerInfo[] = [];
  for (const colour of COLOURS) {
    const s = list.find((x) => x.name === webService(colour));
    if (!s) continue;
    const desired = s.desired ?? 0;
    const state = desired > 0 && s.running > 0 ? 'running' : 'exited';
    const health = desired > 0 && s.running >= desired ? 'healthy' : desired > 0 && s.running > 0 ? 'starting' : undefined;
    containers.push({ id: s.id, name: `${prefix}${s.name}`, service: s.name, colour, release: s.releaseId, state, health, status: `${s.running}/${desired} tasks` });
  }
  return { ...base, containers, services: list };
}

export const serviceOf = (state: ClusterAppState, name: string) => state.services.find((s) => s.name === name);
