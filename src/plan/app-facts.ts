// Small pure facts derived from an app's config, shared by the renderers and the plan command.
import type { AppConfig } from '../config/schema.ts';

/** The tag written in an image reference ("app:1.2" → "1.2"; "localhost:5000/app" → undefined). */
export function imageTag(image: string): string | undefined {
  const last = image.split('/').pop() ?? image;
  const i = last.lastIndexOf(':');
  return i >= 0 ? last.slice(i + 1) : undefined;
}

/** The image the web colours, workers and release command run: config image, tagged with the release unless it has a tag. */
export const appImage = (config: AppConfig, release: string) => (imageTag(config.image) ? config.image : `${config.image}:${release}`);

/** Every host name routed to the app: each domain, plus its www. variant unless www is "none". */
export function routedDomains(config: AppConfig): string[] {
  if (config.www === 'none') return [...config.domains];
  // A wildcard already covers www.
  return config.domains.flatMap((d) => (d.startsWith('www.') || d.startsWith('*.') ? [d] : [d, `www.${d}`]));
}

/** Where the rendered files of an app (or the edge) live, relative to the project root. */
export const COMPOSE_DIR = 'compose';
export const EDGE_RENDER_DIR = `${COMPOSE_DIR}/edge`;
export const appRenderDir = (app: string) => `${COMPOSE_DIR}/${app}`;
/** The edge config file, relative to the project root (named in headers and messages). */
export const EDGE_CONFIG_FILE = 'shared/edge.yml';

/** The path prefixes an app is served under (path_prefix as a list; empty: the whole domain). */
export const pathPrefixes = (config: AppConfig): string[] =>
  config.path_prefix === undefined ? [] : typeof config.path_prefix === 'string' ? [config.path_prefix] : [...config.path_prefix];

/** A size from config ("40m", 1048576) in bytes. */
export function bytesOf(size: number | string): number {
  if (typeof size === 'number') return size;
  const m = /^(\d+)(b|k|m|g)$/i.exec(size);
  if (!m) throw new Error(`not a size: ${size}`);
  return Number(m[1]) * { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as 'b' | 'k' | 'm' | 'g'];
}

/** Edge defaults of the keys app.yml may leave out (Kamal's: 30 s response timeout, prefix stripped). */
export const EDGE_DEFAULTS = { responseTimeout: '30s', stripPathPrefix: true } as const;
