// A recorded release fetched back from its host: rendered files into a local directory and the
// secret values it ran with (in memory, registered for redaction). Rollback and restore use it.
import { Readable } from 'node:stream';
import tarFs from 'tar-fs';
import { StepError } from '../errors.ts';
import { isImageExecKey } from '../plan/secret-env.ts';
import { hostScripts, RELEASE_TAR_MARK, type ScriptPart, scriptParts } from '../exec/host-scripts.ts';
import { parseSecretsEnv } from '../exec/secrets-file.ts';
import { appSecretSetDir, appSecretSetsDir, appSecretsDir, appSecretsEnv, releaseDir, releaseSecretsEnv } from '../names.ts';
import { isSecretsIdKey, SECRETS_ID_VAR, secretSetId } from '../plan/secret-sets.ts';
import type { MemoryEntry } from '../exec/transfer.ts';
import type { Deps } from './deps.ts';
import type { HostHandle } from './host.ts';

export async function fetchRelease(deps: Deps, h: HostHandle, app: string, release: string, dir: string): Promise<Record<string, string>> {
  const p = readReleasePart(app, release);
  const out = await deps.runner.run(hostScripts.run(h.ssh, p.script, p.args, false));
  return unpackRelease(deps, h, app, release, out.stdout, dir);
}

/** The host script that prints a release's secrets and files (its output goes to unpackRelease). */
export const readReleasePart = (app: string, release: string): ScriptPart => scriptParts.readRelease(releaseDir(app, release), releaseSecretsEnv(app, release), appSecretsEnv(app));

/** readReleasePart's output: files into `dir`, the secret values returned (and registered for redaction). */
export async function unpackRelease(deps: Deps, h: HostHandle, app: string, release: string, stdout: string, dir: string): Promise<Record<string, string>> {
  const at = stdout.indexOf(`${RELEASE_TAR_MARK}\n`);
  if (at < 0) throw new StepError('release files', `could not read release ${release} of ${app} from ${h.name}`);
  const secrets = parseSecretsEnv(stdout.slice(0, at));
  deps.log.addSecrets(Object.values(secretValues(secrets)));
  const tar = Buffer.from(stdout.slice(at + RELEASE_TAR_MARK.length + 1), 'base64');
  await new Promise<void>((resolve, reject) => {
    Readable.from([tar]).pipe(tarFs.extract(dir)).on('finish', resolve).on('error', reject);
  });
  return secrets;
}

/** The secret values among a release's env values (not the image's entrypoint/command nor the set ids). */
export const secretValues = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).filter(([k]) => !isImageExecKey(k) && !isSecretsIdKey(k)));

/**
 * What compose needs from a release's env: the image's entrypoint/command and the secret set ids,
 * never a secret value. A release from before secret sets may interpolate values: it gets them all.
 */
export const composeEnvOf = (values: Record<string, string>) =>
  SECRETS_ID_VAR in values ? Object.fromEntries(Object.entries(values).filter(([k]) => isImageExecKey(k) || isSecretsIdKey(k))) : values;

/**
 * A secret set's files (mode 444: a container process need not be root, e.g. postgres drops to
 * uid 999; the 700 directories keep other users on the host out). Content-addressed: writing a set
 * again writes the same bytes, so no container's values ever change under it.
 */
export function secretSetEntries(app: string, values: Record<string, string>): MemoryEntry[] {
  const secrets = secretValues(values);
  const dir = appSecretSetDir(app, secretSetId(secrets));
  return [
    { path: appSecretsDir(app), type: 'directory', mode: 0o700 },
    { path: appSecretSetsDir(app), type: 'directory', mode: 0o700 },
    { path: dir, type: 'directory', mode: 0o700 },
    ...Object.entries(secrets).map(([k, v]) => ({ path: `${dir}/${k}`, content: v, mode: 0o444 })),
  ];
}
