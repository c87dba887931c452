// The image's own entrypoint and command, read on the host after the image step: the secrets
// wrapper (src/plan/secret-env.ts) execs them, and compose gets them as interpolation values.
import { dockerCmd } from '../docker/argv.ts';
import { StepError } from '../errors.ts';
import { imageExecEnv, parseImageExec } from '../plan/secret-env.ts';
import type { Deps } from './deps.ts';
import type { HostHandle } from './host.ts';

export async function imageExecOnHost(deps: Deps, h: HostHandle, image: string): Promise<Record<string, string>> {
  const res = await deps.runner.run(dockerCmd.imageExec(h.context, image), { allowFailure: true });
  const parsed = res.exitCode === 0 ? parseImageExec(res.stdout) : undefined;
  // --dry-run: an image that would be pulled first is not there yet.
  if (!parsed && deps.runner.dryRun) return imageExecEnv(null, null);
  if (!parsed) {
    throw new StepError('image', `image ${image} is not on ${h.name} (docker image inspect: ${(res.stderr || res.stdout).trim().split('\n').pop() ?? ''}); nothing was started, the old release keeps serving`);
  }
  return imageExecEnv(parsed.entrypoint, parsed.cmd);
}
