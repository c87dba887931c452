// Pure decisions for a host that runs an app's workers and/or accessories but no web (placement
// across hosts): no colour and no route there, only "is this release's set of services running?".
// Rollback brings its workers (and backup loops) back to a recorded release; accessories are never
// downgraded, as on web hosts.
import type { AppState, ReleaseRecord } from '../exec/state.ts';
import { rollbackTarget } from './deploy-plan.ts';

export type ServicesDecision = { kind: 'noop'; reason: string } | { kind: 'deploy'; previous: string | null };

/**
 * Nothing to do when the release (and its secrets) is the one recorded live and every service the
 * host's compose file defines has a running container. `underLock`: as planDeploy, "nothing
 * changed" without the lock only when no other deploy held it around the read.
 */
export function planServicesDeploy(state: AppState, id: string, secretsHash: string, services: readonly string[], opts: { underLock?: boolean } = {}): ServicesDecision {
  const cur = state.current;
  const settled = opts.underLock || !state.lockHolder;
  const liveRecord = cur ? state.releases.find((r) => r.id === cur.release) : undefined;
  const down = services.filter((s) => !state.containers.some((c) => c.service === s && c.state === 'running'));
  if (settled && cur?.release === id && liveRecord?.secretsHash === secretsHash && !down.length) {
    return { kind: 'noop', reason: `release ${id} is already live and ${services.length ? services.join(', ') : 'nothing'} runs` };
  }
  return { kind: 'deploy', previous: cur && cur.release !== id ? cur.release : (cur?.previous?.release ?? null) };
}

export type ServicesRollback = { kind: 'refuse'; reason: string } | { kind: 'rollback'; target: ReleaseRecord; live: string };

/** Back to the previous (or named) recorded release on a host without web. */
export function planServicesRollback(state: AppState, to?: string): ServicesRollback {
  const picked = rollbackTarget(state, to);
  return picked.kind === 'refuse' ? picked : { kind: 'rollback', target: picked.target, live: picked.current.release };
}
