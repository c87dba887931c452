// A recorded release fetched back from its host: rendered files into a local directory and the
// secret values it ran with (in memory, registered for redaction). Rollback and restore use it.
import { Readable } from 'node:stream';
import tarFs from 'tar-fs';
import { StepError } from '../errors.ts';
import { isImageExecKey } from '../plan/secret-env.ts';
import { hostScripts, RELEASE_TAR_MARK, type ScriptPart, scriptParts } from '../exec/host-scripts.ts';
import { parseSecretsEnv } from '../exec/secrets-file.ts';
import { appSecretsEnv, releaseDir, releaseSecretsEnv } from '../names.ts';
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
  deps.log.addSecrets(Object.entries(secrets).filter(([k]) => !isImageExecKey(k)).map(([, v]) => v));
  const tar = Buffer.from(stdout.slice(at + RELEASE_TAR_MARK.length + 1), 'base64');
  await new Promise<void>((resolve, reject) => {
    Readable.from([tar]).pipe(tarFs.extract(dir)).on('finish', resolve).on('error', reject);
  });
  return secrets;
}
