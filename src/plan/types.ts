// The contract between pure rendering (src/plan) and the code that acts on hosts (src/exec, src/app).
import type { Colour } from '../names.ts';
import type { Placement } from './placement.ts';

/** A file Berth renders. `path` is relative to the directory it belongs to (compose/<app>/, compose/edge/…). */
export interface RenderedFile {
  path: string;
  content: string;
  /** File mode on the host (default 0o644). */
  mode?: number;
}

/** Everything one release of one app consists of, rendered purely from config + release id. */
export interface AppRender {
  app: string;
  /** Release id: the image tag (git short sha, or the tag written in config). */
  release: string;
  /** Full image reference the web colours, workers and release command run. */
  image: string;
  /** compose.yml, litestream.yml (if any), routing.blue.yml, routing.green.yml. Deterministic. */
  files: RenderedFile[];
  /** sha256 of the files' contents (stable), recorded on the host and labelled on containers. */
  configHash: string;
  /** Secret names the release needs on the host (app env file, accessory files, registry, litestream). */
  secrets: string[];
  /** Hosts (names from hosts.json) this app deploys to: every host running any of its processes or accessories. */
  hosts: string[];
  /** What runs where (src/plan/placement.ts). */
  placement?: Placement;
  /**
   * What each host's release folder holds: its own compose.yml (only its processes when placement
   * differs per host), litestream.yml where the replicator runs, the routing files where web runs.
   */
  hostFiles?: Record<string, RenderedFile[]>;
}

/** The files one host gets for a release (every file when the render carries no per-host split). */
export const filesFor = (render: Pick<AppRender, 'files' | 'hostFiles'>, host: string): RenderedFile[] => render.hostFiles?.[host] ?? render.files;

export interface EdgeRender {
  /** compose.yml and traefik.yml for the berth-edge project. */
  files: RenderedFile[];
  configHash: string;
  secrets: string[];
}

export const routingFile = (colour: Colour) => `routing.${colour}.yml`;
