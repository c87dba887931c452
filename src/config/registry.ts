// PURE: what an app's `registry` key says. An object is a registry Berth logs in to, pushes to and
// pulls from; "none" means no registry at all: the image built here is shipped to each host over
// SSH (src/app/ship-image.ts), only the layers the host lacks.
import type { AppConfig } from './schema.ts';

export type RegistryConfig = Exclude<AppConfig['registry'], 'none' | undefined>;

/** The registry to log in to and push to / pull from, if the app has one. */
export const registryOf = (c: Pick<AppConfig, 'registry'>): RegistryConfig | undefined => (c.registry && c.registry !== 'none' ? c.registry : undefined);

/** `registry: none`: the image goes to the hosts over SSH, never through a registry. */
export const shipsOverSsh = (c: Pick<AppConfig, 'registry'>): boolean => c.registry === 'none';
