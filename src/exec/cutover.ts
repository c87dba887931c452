// The health-gated blue/green switch, shared by deploy and rollback:
// start the idle colour → wait healthy → switch Traefik's file-provider route atomically → confirm
// through Traefik's API → hand the old colour a delayed stop (its in-flight requests finish first).
import { compose, type ComposeTarget } from '../docker/argv.ts';
import type { Runner } from '../docker/runner.ts';
import type { SshTarget } from '../docker/ssh.ts';
import { HealthError, StepError } from '../errors.ts';
import { type Colour, dynamicConfigFile, traefikService, webAlias, webService } from '../names.ts';
import type { Readable } from 'node:stream';
import { chainScripts, hostScripts, type ScriptPart, type SwitchRecord, switchRoutePart, THEN_MARKER, thenOutput } from './host-scripts.ts';
import { stripAnsi } from '../log/ansi.ts';
import { lacksShell, noShellMessage } from '../plan/secret-env.ts';

export interface CutoverInput {
  runner: Runner;
  ssh: SshTarget;
  host: string;
  app: string;
  target: ComposeTarget;
  colour: Colour;
  port: number;
  routing: string; // rendered routing.<colour>.yml
  healthTimeoutSeconds: number;
  /** Routing content in force before the switch, restored if Traefik never confirms. */
  previousRouting?: string;
  /** Release and current records written right after Traefik confirms, in the switch's round trip. */
  record?: SwitchRecord;
  /** The image, for messages. */
  image?: string;
  /** The colour's container was created already (while the release command ran): start it, no compose up. */
  created?: boolean;
}

export async function startColour(i: CutoverInput): Promise<string> {
  const svc = webService(i.colour);
  // A created container is started by the health wait itself (one round trip, no compose start-up).
  const up = i.created ? undefined : await i.runner.run(compose.up(i.target, [svc]), { allowFailure: true });
  if (up?.dryRun) return '';
  const wait = !up || up.exitCode === 0 ? await i.runner.run(hostScripts.waitHealthy(i.ssh, i.target.project, svc, i.healthTimeoutSeconds, !up), { allowFailure: true }) : undefined;
  const healthy = wait && wait.exitCode === 0 ? /^healthy ([0-9a-f]+)/m.exec(wait.stdout) : null;
  // Compose could not start it, or (created earlier) Docker could not: an image without /bin/sh says so.
  const startFailed = up ? (up.exitCode !== 0 ? up.stderr + up.stdout : '') : wait && /^container did not start/m.test(wait.stdout) ? wait.stdout : '';
  if (!healthy && startFailed && lacksShell(startFailed)) {
    const image = i.image ?? 'of this release';
    throw new StepError('start', `${noShellMessage(image)}; routing unchanged, the old release keeps serving.`);
  }
  if (!healthy) {
    const why = wait ? wait.stdout || wait.stderr : up!.stderr || up!.stdout;
    const logs = await i.runner.run(compose.logs(i.target, [svc], 30), { allowFailure: true });
    // Stop the failed colour so a crash loop does not keep burning CPU; routing was never touched.
    await i.runner.run(compose.stop(i.target, [svc], 5), { allowFailure: true });
    throw new HealthError(
      svc,
      i.host,
      `did not become healthy within ${i.healthTimeoutSeconds}s (${lastLine(stripAnsi(why))}); routing unchanged, the old release keeps serving`,
      (logs.stdout + logs.stderr).trim().split('\n').slice(-30),
    );
  }
  return healthy[1]!.slice(0, 12);
}

/**
 * Switch routing to `colour` and wait until Traefik's API reports it (one SSH round trip).
 * Returns the ms from the route's rename to the API's confirmation, measured on the host.
 */
export async function switchRoute(i: CutoverInput): Promise<number> {
  const url = `http://${webAlias(i.app, i.colour)}:${i.port}`;
  const ok = await i.runner.run(hostScripts.switchRoute(i.ssh, dynamicConfigFile(i.app), i.routing, `${traefikService(i.app)}@file`, url, SWITCH_TIMEOUT_SECONDS, i.record), { allowFailure: true });
  if (ok.dryRun) return 0;
  const m = /^confirmed (\d+)/m.exec(ok.stdout);
  if (ok.exitCode !== 0 || !m) {
    if (i.previousRouting) await i.runner.run(hostScripts.writeFile(i.ssh, dynamicConfigFile(i.app), i.previousRouting, '644'));
    throw new StepError('switch', `Traefik on ${i.host} did not report ${url} for ${i.app} within ${SWITCH_TIMEOUT_SECONDS}s; routing restored. API said: ${ok.stdout.trim().slice(0, 300)}`);
  }
  return Number(m[1]);
}

/**
 * The switch in one round trip with what surrounds it: `upload` (a tar stream, extracted at / first;
 * it must hold `routeFile`, the route's content), then the switch, then `after` once Traefik
 * confirmed. A failed `after` leaves the switch done: its exit code and output come back
 * (`afterExitCode`), the caller decides; a switch Traefik never confirmed restores the route and throws.
 */
export async function switchRouteWith(i: CutoverInput, upload: Readable, routeFile: string, after?: ScriptPart): Promise<{ ms: number; after?: string; afterExitCode: number }> {
  const url = `http://${webAlias(i.app, i.colour)}:${i.port}`;
  const sw = switchRoutePart(routeFile, dynamicConfigFile(i.app), `${traefikService(i.app)}@file`, url, SWITCH_TIMEOUT_SECONDS, i.record);
  const ok = await i.runner.run(hostScripts.untar(i.ssh, after ? chainScripts(sw, after) : sw), { allowFailure: true, stdinStream: upload });
  if (ok.dryRun) return { ms: 0, afterExitCode: 0 };
  const out = thenOutput(ok.stdout);
  if (out === undefined) {
    throw new StepError('switch', `the upload before the switch failed on ${i.host} (${lastLine(stripAnsi(ok.stderr || ok.stdout)) || `exit ${ok.exitCode}`}); routing unchanged, the old release keeps serving`);
  }
  const then = after ? thenOutput(out) : undefined;
  const m = /^confirmed (\d+)/m.exec(then === undefined ? out : out.slice(0, out.indexOf(`\n${THEN_MARKER}\n`) + 1));
  if (!m) {
    if (i.previousRouting) await i.runner.run(hostScripts.writeFile(i.ssh, dynamicConfigFile(i.app), i.previousRouting, '644'));
    throw new StepError('switch', `Traefik on ${i.host} did not report ${url} for ${i.app} within ${SWITCH_TIMEOUT_SECONDS}s; routing restored. API said: ${(out || ok.stderr).trim().slice(0, 300)}`);
  }
  return { ms: Number(m[1]), after: then, afterExitCode: ok.exitCode };
}

/** How long the switch waits for Traefik's API to report the new server. */
export const SWITCH_TIMEOUT_SECONDS = 10;

const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';
