// Per-host plumbing shared by the use cases: the Docker context and SSH target for a host from
// hosts.json, created or corrected idempotently.
import type { HostConfig } from '../config/schema.ts';
import { dockerCmd } from '../docker/argv.ts';
import type { Runner } from '../docker/runner.ts';
import { configMultiplexes, dockerHostUrl, sshProbe, parseSshTarget, sshEffectiveConfig, type SshTarget } from '../docker/ssh.ts';
import { contextFor } from '../names.ts';
import { privateControlDir, useIdentityForDocker } from './docker-ssh.ts';

export interface HostHandle {
  name: string;
  context: string;
  ssh: SshTarget;
  config: HostConfig;
}

export function hostHandle(name: string, config: HostConfig): HostHandle {
  return { name, context: contextFor(name, config.context), ssh: parseSshTarget(config), config };
}

/** Does the host answer a fresh SSH connection (after a step failed: lost connection or real failure?). */
export async function hostReachable(runner: Runner, h: HostHandle): Promise<boolean> {
  return (await runner.run(sshProbe(h.ssh), { allowFailure: true, timeoutMs: 15_000 })).exitCode === 0;
}

/** Create the host's Docker context, or point it at the right address if it drifted. */
export async function ensureContext(runner: Runner, h: HostHandle): Promise<void> {
  await prepareSsh(runner, h);
  await ensureDockerContext(runner, h);
}

/** How to reach the host over SSH (multiplexing, identity): needed before the first round trip. */
export async function prepareSsh(runner: Runner, h: HostHandle): Promise<void> {
  const g = await runner.run(sshEffectiveConfig(h.ssh), { allowFailure: true });
  h.ssh.configMultiplexes = g.exitCode === 0 && configMultiplexes(g.stdout);
  if (!h.ssh.configMultiplexes) {
    const dir = await privateControlDir();
    if (dir) h.ssh.controlPath = `${dir}/%C`;
  }
  await useIdentityForDocker(h);
}

/** The host's Docker context points at it (only docker/compose commands need it: may run beside the first round trip). */
export async function ensureDockerContext(runner: Runner, h: HostHandle): Promise<void> {
  const url = dockerHostUrl(h.ssh);
  const got = await runner.run(dockerCmd.contextInspect(h.context), { allowFailure: true });
  if (got.exitCode !== 0) await runner.run(dockerCmd.contextCreate(h.context, url));
  else if (got.stdout.trim() !== url) await runner.run(dockerCmd.contextUpdate(h.context, url));
}
