// What Berth knows about an app on a host: parsed from one observe round trip (pure parsing).
import { type Colour, LABEL } from '../names.ts';
import { parseImageExec } from '../plan/secret-env.ts';
import type { MaintenanceRecord } from '../plan/render-maintenance.ts';
import { byText } from '../text-order.ts';

export interface ReleaseRecord {
  id: string;
  app: string;
  tag: string;
  image: string;
  imageId?: string;
  digest?: string;
  /** The web colour it went live on (absent on a host that runs no web: workers and accessories only). */
  colour?: Colour;
  configHash: string;
  secretsHash: string;
  gitCommit?: string;
  createdAt: string;
  host: string;
  /** Short id of the web container this release ran in (rollback reuses it when still there). */
  containerId?: string;
}

export interface CurrentRecord {
  release: string;
  colour: Colour;
  previous: { release: string; colour: Colour } | null;
  switchedAt: string;
}

export interface ContainerInfo {
  id: string;
  name: string;
  service: string;
  colour?: Colour;
  release?: string;
  configHash?: string;
  /** The secret set it mounts (label berth.secrets; absent on containers from before sets). */
  secrets?: string;
  state: string; // running, exited, created, restarting…
  health?: 'healthy' | 'unhealthy' | 'starting';
  status: string;
  /** A `compose run` container (the release command's), not a service's own. */
  oneoff?: true;
}

export interface AppState {
  current: CurrentRecord | null;
  releases: ReleaseRecord[];
  containers: ContainerInfo[];
  /** The colour Traefik's route file points at (undefined: no route, or not observed). */
  routedColour?: Colour;
  /** Colours with a pending retire timer on the host. */
  retiring?: Colour[];
  /** The lock's holder (JSON text) when the lock was held before or after the read. */
  lockHolder?: string;
  /** Id of the image the host has for the requested reference (observeApp's `image`). */
  imageId?: string;
  /** That image's first repo digest, and its own entrypoint and command (the secrets wrapper execs them). */
  imageDigest?: string;
  imageExec?: { entrypoint: string[] | null; cmd: string[] | null };
  /** The id the host computed from the files of the requested secret set ("missing": no such set). */
  secretsCheck?: string;
  /** A backup:restore journal on the host: its job still running, or cut off (src/exec/restore-job.ts). */
  restore?: RestoreJournal;
  /** Maintenance mode's record (maintenance.json), when the app is in maintenance on this host. */
  maintenance?: MaintenanceRecord;
}

export interface RestoreJournal {
  /** The job's process is still running on the host. */
  alive: boolean;
  /** The last step it completed ("" when none). */
  step: string;
  /** When it started (epoch seconds, the host's clock). */
  since?: number;
  /** What it was started with (JSON), for finishing it. */
  params: string;
}

const parseLabels = (s: string): Record<string, string> =>
  Object.fromEntries(
    s
      .split(',')
      .filter(Boolean)
      .map((kv) => {
        const i = kv.indexOf('=');
        return [kv.slice(0, i), kv.slice(i + 1)];
      }),
  );

export function parseContainerLine(line: string): ContainerInfo {
  const j = JSON.parse(line) as Record<string, string>;
  const labels = parseLabels(j.Labels ?? '');
  const status = j.Status ?? '';
  const health = /\(healthy\)/.test(status) ? 'healthy' : /\(unhealthy\)/.test(status) ? 'unhealthy' : /health: starting/.test(status) ? 'starting' : undefined;
  return {
    id: j.ID ?? '',
    name: j.Names ?? '',
    service: labels['com.docker.compose.service'] ?? '',
    colour: labels[LABEL.colour] as Colour | undefined,
    release: labels[LABEL.release],
    configHash: labels[LABEL.configHash],
    ...(labels[LABEL.secrets] !== undefined ? { secrets: labels[LABEL.secrets] } : {}),
    state: j.State ?? '',
    health,
    status,
    ...(labels['com.docker.compose.oneoff'] === 'True' ? { oneoff: true as const } : {}),
  };
}

/** Parse the sectioned output of hostScripts.observeApp. */
export function parseObservation(out: string): AppState {
  const state: AppState = { current: null, releases: [], containers: [] };
  let section = '';
  const currentLines: string[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('--')) {
      section = line.slice(2).trim();
      continue;
    }
    if (!line.trim()) continue;
    if (section === 'current') currentLines.push(line);
    else if (section === 'releases') {
      try {
        state.releases.push(JSON.parse(line) as ReleaseRecord);
      } catch {
        /* a half-written record from an interrupted deploy is ignored */
      }
    } else if (section === 'containers') {
      // A one-off left by a release command cut off mid-run is no service's container: it must not
      // stand for a colour, count as a stopped service, or be taken for an orphan.
      const c = parseContainerLine(line);
      if (!c.oneoff) state.containers.push(c);
    }
    else if (section === 'route') {
      const m = /-web-(blue|green):/.exec(line);
      if (m) state.routedColour = m[1] as Colour;
    } else if (section === 'retiring' && (line === 'blue' || line === 'green')) (state.retiring ??= []).push(line);
    else if (section === 'image') state.imageId = line.trim();
    else if (section === 'image-digests') {
      try {
        state.imageDigest = (JSON.parse(line) as string[] | null)?.[0];
      } catch {
        /* no digest: the record goes without one */
      }
    } else if (section === 'image-exec') state.imageExec = parseImageExec(line);
    else if (section === 'secrets-check') state.secretsCheck = line.trim();
    else if (section === 'restore') {
      const r = (state.restore ??= { alive: false, step: '', params: '' });
      if (line === 'alive') r.alive = true;
      else if (line.startsWith('step ')) r.step = line.slice(5).trim();
      else if (line.startsWith('since ')) r.since = Number(line.slice(6)) || undefined;
      else if (line.startsWith('params ')) r.params = line.slice(7);
    }
    else if (section === 'maintenance') {
      try {
        state.maintenance = JSON.parse(line) as MaintenanceRecord;
      } catch {
        state.maintenance = { since: '?', routes: '' }; // unreadable, yet the app is in maintenance
      }
    }
    else if (section === 'lock') state.lockHolder ??= line.trim();
  }
  if (currentLines.length) {
    try {
      state.current = JSON.parse(currentLines.join('\n')) as CurrentRecord;
    } catch {
      state.current = null;
    }
  }
  state.releases.sort((a, b) => byText(a.createdAt, b.createdAt));
  return state;
}

export const containerFor = (state: AppState, service: string) => state.containers.find((c) => c.service === service);
