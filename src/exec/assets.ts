// Asset bridging on a host: copy the releases' assets out of their images and merge them into the
// directory the target release's colours mount (see plan/assets-plan.ts for which releases).
import type { Runner } from '../docker/runner.ts';
import type { SshTarget } from '../docker/ssh.ts';
import { StepError } from '../errors.ts';
import { assetsDir } from '../names.ts';
import { assetArgs, type AssetSource } from '../plan/assets-plan.ts';
import { hostScripts } from './host-scripts.ts';

/** Returns the script's summary line; throws (before anything is started or switched) when the target's assets cannot be copied. */
export async function prepareAssets(runner: Runner, ssh: SshTarget, host: string, app: string, assetPath: string, sources: AssetSource[]): Promise<string> {
  const res = await runner.run(hostScripts.prepareAssets(ssh, assetsDir(app), assetPath, assetArgs(sources)), { allowFailure: true });
  const out = (res.stdout + res.stderr).trim();
  if (res.exitCode !== 0) {
    const target = sources.at(-1)!;
    throw new StepError(
      'assets',
      `asset_path ${assetPath} of ${target.image} could not be prepared on ${host} (${out.split('\n').pop() || `exit ${res.exitCode}`}); fix asset_path in the app config or the image; nothing switched, the old release keeps serving`,
    );
  }
  return out.split('\n').pop() ?? '';
}
