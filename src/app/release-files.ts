// A recorded release fetched back from its host: rendered files into a local directory and the
// secret values it ran with (in memory, registered for redaction). Rollback and restore use it.
import { Readable } from 'node:stream';
import tarFs from 'tar-fs';
import { StepError } from '../errors.ts';
import { isImageExecKey } from '../plan/secret-env.ts';
import { hostScripts, RELEASE_TAR_MARK } from '../exec/host-scripts.ts';
import { parseSecretsEnv } from '../exec/secrets-file.ts';
import { appSecretsEnv, releaseDir, releaseSecretsEnv } from '../names.ts';
import type { Deps } from './deps.ts';
import type { HostHandle } from './host.ts';

export async function fetchRelease(deps: Deps, h: HostHandle, app: string, release: string, dir: string): Promise<Record<string, string>> {
  const out = await deps.runner.run(hostScripts.readRelease(h.ssh, releaseDir(app, release), releaseSecretsEnv(app, release), appSecretsEnv(app)));
  const at = out.stdout.indexOf(`${RELEASE_TAR_MARK}\n`);
  if (at < 0) throw new StepError('release files', `could not read release ${release} of ${app} from ${h.name}`);
  const secrets = parseSecretsEnv(out.stdout.slice(0, at));
  deps.log.addSecrets(Object.entries(secrets).filter(([k]) => !isImageExecKey(k)).map(([, v]) => v));
  const tar = Buffer.from(out.stdout.slice(at + RELEASE_TAR_MARK.length + 1), 'base64');
  await new Promise<void>((resolve, reject) => {
    Readable.from([tar]).pipe(tarFs.extract(dir)).on('finish', resolve).on('error', reject);
  });
  return secrets;
}
