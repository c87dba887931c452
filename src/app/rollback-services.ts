// Rollback on a host that runs an app's workers but no web (placement across hosts): its workers,
// backup loops and replicator come back to the recorded release's own compose file and secret
// values, and current.json names it again. Accessories are never downgraded; a host running only
// accessories has nothing to roll back and is left as it is.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from '../config/schema.ts';
import { StepError } from '../errors.ts';
import { hostScripts } from '../exec/host-scripts.ts';
import { acquireLock } from '../exec/lock.ts';
import { formatSecretsEnv } from '../exec/secrets-file.ts';
import { packUpload } from '../exec/transfer.ts';
import { appProject, appSecretFile, appSecretsEnv, currentFile, litestreamConfigPath, lockDir } from '../names.ts';
import { planServicesRollback } from '../plan/services-plan.ts';
import { isImageExecKey } from '../plan/secret-env.ts';
import type { AppState } from '../exec/state.ts';
import { type Deps, phases } from './deps.ts';
import type { HostHandle } from './host.ts';
import { hostReachable } from './host.ts';
import { composeEnvOf, readReleasePart, secretSetEntries, unpackRelease } from './release-files.ts';
import { SECRETS_ID_VAR } from '../plan/secret-sets.ts';
import { restoreReleaseServices } from './release-services.ts';

export interface ServicesRollbackOutcome {
  host: string;
  release: string;
  previous: string;
  services: string[];
  timings: Record<string, number>;
}

/**
 * `to` names a release id; on a host without the app's image (accessories only) ids carry no image
 * id, so a record whose id is a prefix of `to` is the same release.
 */
export function matchRelease(state: Pick<AppState, 'releases'>, to: string | undefined): string | undefined {
  if (!to) return undefined;
  return state.releases.find((r) => r.id === to)?.id ?? state.releases.find((r) => to.startsWith(`${r.id}-`))?.id ?? to;
}

export async function rollbackServicesOnHost(deps: Deps, app: App, h: HostHandle, state: AppState, to?: string): Promise<ServicesRollbackOutcome> {
  const d = planServicesRollback(state, matchRelease(state, to));
  if (d.kind === 'refuse') throw new StepError('rollback', `${h.name}: ${d.reason}`);
  const { timings, phase } = phases(deps.log, h.name, {
    reachable: () => hostReachable(deps.runner, h),
    leftState: () => `${h.name} runs no web: nothing it serves changed; rerun the rollback when the host answers.`,
  });
  const lock = await phase('lock', () => acquireLock(deps.runner, h.ssh, lockDir(app.name), `rollback ${app.name} to ${d.target.id}`, { host: h.name, app: app.name, now: deps.now(), then: readReleasePart(app.name, d.target.id) }));
  const dir = await mkdtemp(join(tmpdir(), 'berth-rollback-'));
  try {
    const secrets = await phase('restore files', async () => {
      if (lock.thenOutput !== undefined) return unpackRelease(deps, h, app.name, d.target.id, lock.thenOutput, dir);
      const p = readReleasePart(app.name, d.target.id);
      return unpackRelease(deps, h, app.name, d.target.id, (await deps.runner.run(hostScripts.run(h.ssh, p.script, p.args, false))).stdout, dir);
    });
    // The release's own secret set (never another release's values; secret-sets.ts), or, for a release
    // from before sets, the app's one folder of files; its env file, the record naming it live, its litestream.yml.
    const sets = SECRETS_ID_VAR in secrets;
    const extra = [
      ...(sets ? secretSetEntries(app.name, secrets) : Object.entries(secrets).filter(([k]) => !isImageExecKey(k)).map(([k, v]) => ({ path: appSecretFile(app.name, k), content: v, mode: 0o444 }))),
      { path: appSecretsEnv(app.name), content: formatSecretsEnv(secrets), mode: 0o600 },
      { path: currentFile(app.name), content: JSON.stringify({ release: d.target.id, previous: { release: d.live }, switchedAt: deps.now().toISOString() }, null, 2) + '\n', mode: 0o644 },
    ];
    const ls = await readFile(join(dir, 'litestream.yml'), 'utf8').catch(() => undefined);
    if (ls) extra.push({ path: litestreamConfigPath(app.name), content: ls, mode: 0o644 });
    await phase('secret files + record', () => deps.runner.run(hostScripts.untar(h.ssh), { stdinStream: packUpload(undefined, undefined, extra) }));
    const target = { context: h.context, project: appProject(app.name), files: [join(dir, 'compose.yml')], env: composeEnvOf(secrets) };
    const services = await phase('workers + backup loops', async () => restoreReleaseServices(deps, target, await readFile(join(dir, 'compose.yml'), 'utf8')));
    deps.log.info(`${h.name}: ${app.name} rolled back to ${d.target.id} (${services.join(', ') || 'no services'}; no web here)`);
    return { host: h.name, release: d.target.id, previous: d.live, services, timings };
  } finally {
    await lock.release();
    await rm(dir, { recursive: true, force: true });
  }
}
