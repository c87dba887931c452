// Pure deploy/rollback decisions: observed state + desired release in, a decision out.
import { type Colour, otherColour, webService } from '../names.ts';
import { type AppState, containerFor, type ReleaseRecord } from '../exec/state.ts';

export type DeployDecision =
  | { kind: 'noop'; colour: Colour; reason: string }
  | { kind: 'deploy'; colour: Colour; live: { colour: Colour; release: string; containerId?: string } | null };

export { releaseId } from './release-id.ts';

/**
 * `underLock`: the state was read while this deploy held the app's lock. Without it, "nothing
 * changed" is only answered when no other deploy held the lock around the read (it may be
 * replacing the very release we found live); otherwise the deploy takes the lock and decides again.
 */
export function planDeploy(state: AppState, id: string, secretsHash: string, opts: { underLock?: boolean } = {}): DeployDecision {
  const cur = state.current;
  if (!cur) return { kind: 'deploy', colour: 'blue', live: null };
  const live = containerFor(state, webService(cur.colour));
  const liveRecord = state.releases.find((r) => r.id === cur.release);
  const settled = opts.underLock || !state.lockHolder;
  if (settled && cur.release === id && liveRecord?.secretsHash === secretsHash && live?.state === 'running' && live.health !== 'unhealthy') {
    return { kind: 'noop', colour: cur.colour, reason: `release ${id} is already live on ${cur.colour} and healthy` };
  }
  return {
    kind: 'deploy',
    colour: otherColour(cur.colour),
    live: live?.state === 'running' ? { colour: cur.colour, release: cur.release, containerId: live.id } : { colour: cur.colour, release: cur.release },
  };
}

export type RollbackDecision =
  | { kind: 'refuse'; reason: string }
  | { kind: 'rollback'; target: ReleaseRecord; colour: Colour; reuse: boolean; live: { colour: Colour; release: string; containerId?: string } };

export function planRollback(state: AppState, to?: string): RollbackDecision {
  const cur = state.current;
  if (!cur) return { kind: 'refuse', reason: 'nothing is deployed yet' };
  const wanted = to ?? cur.previous?.release;
  if (!wanted) return { kind: 'refuse', reason: 'there is no previous release to roll back to (use --to <release>)' };
  if (wanted === cur.release) return { kind: 'refuse', reason: `release ${wanted} is already live` };
  const target = state.releases.find((r) => r.id === wanted);
  if (!target) {
    const known = state.releases.map((r) => r.id).join(', ') || 'none';
    return { kind: 'refuse', reason: `release ${wanted} is not recorded on the host (known: ${known})` };
  }
  const colour = otherColour(cur.colour);
  const idle = containerFor(state, webService(colour));
  // The idle colour still holds the target release: starting it needs no pull and no recreate.
  const reuse = !!idle && !!target.containerId && idle.id.startsWith(target.containerId);
  const live = containerFor(state, webService(cur.colour));
  return { kind: 'rollback', target, colour, reuse, live: { colour: cur.colour, release: cur.release, containerId: live?.id } };
}
