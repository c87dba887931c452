// Secret sets (PURE). A release's containers mount their secret files from
// /etc/berth/<app>/sets/<set id>/, the id being a hash of the names and values. A set is written
// once and never changed, so the live release reads its own values before, during and after any
// other deploy or rollback, failed or not, and after a container restart or a reboot too (Docker
// keeps each container's mount sources).
// The compose file cannot name the set: the release id hashes the compose file, and a release's
// secret values may change without its config. Compose interpolates the id from the release's env
// file (BERTH_SECRETS_ID), and a label carries it: compose compares labels, not mount sources, so
// the label is what recreates a container whose values changed, and it tells a no-op deploy which
// set the live colour mounts. Support services (replicator, accessories, backup loops) are labelled
// with the set of the secrets they mount only, so an unrelated secret never restarts a database.
import { createHash } from 'node:crypto';
import { parsedYaml } from './yaml.ts';
import { RELEASE_SERVICE } from '../names.ts';

export const SECRETS_ID_VAR = 'BERTH_SECRETS_ID';

/** Services that belong to a release (colours, workers, the release command's): they mount the release's whole set. */
const releaseService = (service: string) => /^web-(blue|green)$/.test(service) || service.startsWith('worker-') || service === RELEASE_SERVICE;

/** The interpolation variable naming the set a service's label carries. */
export const secretsIdVar = (service: string) =>
  releaseService(service) ? SECRETS_ID_VAR : `${SECRETS_ID_VAR}_${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

/** Keys of a release's env file that are Berth's own (not secret values). */
export const isSecretsIdKey = (key: string) => key === SECRETS_ID_VAR || key.startsWith(`${SECRETS_ID_VAR}_`);

/** sha256 over `name\nvalue\0` per secret, names sorted: what SECRET_SET_ID_SH computes from the files. */
export function secretSetId(values: Record<string, string>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(values).sort()) h.update(`${name}\n`).update(values[name]!).update('\0');
  return h.digest('hex').slice(0, 16);
}

/**
 * The same id computed on the host from a set's directory ($1): one file per secret, named after
 * it. Prints the id, or "missing". No single quotes: it is embedded in other host scripts.
 */
export const SECRET_SET_ID_SH =
  'if [ -d "$1" ]; then (cd "$1" && for f in $(LC_ALL=C ls -A); do printf "%s\\n" "$f"; cat "$f"; printf "\\000"; done) | sha256sum | cut -c1-16; else echo missing; fi';

/**
 * The interpolation values naming the sets of one release: the whole set for its own services, and
 * for each support service the set of the secrets it mounts (read from the rendered compose file,
 * or from each host's when the placement differs per host).
 */
export function secretSetEnv(values: Record<string, string>, composeYml: string | string[]): Record<string, string> {
  const services: Record<string, { secrets?: (string | { source: string })[] }> = {};
  for (const text of [composeYml].flat()) Object.assign(services, (parsedYaml(text) as { services?: typeof services })?.services ?? {});
  const env: Record<string, string> = { [SECRETS_ID_VAR]: secretSetId(values) };
  for (const [service, def] of Object.entries(services)) {
    if (releaseService(service) || !def.secrets?.length) continue;
    const names = def.secrets.map((s) => (typeof s === 'string' ? s : s.source));
    env[secretsIdVar(service)] = secretSetId(Object.fromEntries(names.map((n) => [n, values[n] ?? ''])));
  }
  return env;
}
