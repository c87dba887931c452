// Pure deploy/rollback decisions: observed state + desired release in, a decision out.
import { type Colour, otherColour, webService } from '../names.ts';
import { type AppState, containerFor, type ReleaseRecord } from '../exec/state.ts';

/** Left over by a deploy interrupted after its switch: what a later run finishes. */
export interface Repair {
  /** current.json names another colour than the route: write this record. */
  record?: { release: string; colour: Colour; previous: { release: string; colour: Colour } };
  /** The other colour still runs and no retire is pending: retire it. */
  retire?: { colour: Colour; containerId: string };
}

export type DeployDecision =
  | { kind: 'noop'; colour: Colour; reason: string; repair?: Repair }
  | { kind: 'deploy'; colour: Colour; live: { colour: Colour; release: string; containerId?: string } | null };

export { releaseId } from './release-id.ts';

/**
 * The state as it really is: when the route points at the other colour than current.json (a deploy
 * lost its connection between the switch and its record), the routed colour is live, with the
 * release recorded for its container (the switch writes that record in its own round trip). Without
 * such a record the routed colour still counts as live, so a deploy never replaces what serves.
 */
export function reconcile(state: AppState): { state: AppState; record?: Repair['record'] } {
  const cur = state.current;
  const routed = state.routedColour;
  if (!cur || !routed || routed === cur.colour) return { state };
  const c = containerFor(state, webService(routed));
  if (c?.state !== 'running') return { state };
  const rec = [...state.releases].reverse().find((r) => r.containerId && c.id.startsWith(r.containerId));
  const previous = { release: cur.release, colour: cur.colour };
  if (!rec) return { state: { ...state, current: { release: `unrecorded (${c.release ?? 'unknown'})`, colour: routed, previous, switchedAt: cur.switchedAt } } };
  const record = { release: rec.id, colour: routed, previous };
  return { state: { ...state, current: { ...record, switchedAt: cur.switchedAt } }, record };
}

/**
 * `underLock`: the state was read while this deploy held the app's lock. Without it, "nothing
 * changed" is only answered when no other deploy held the lock around the read (it may be
 * replacing the very release we found live); otherwise the deploy takes the lock and decides again.
 */
export function planDeploy(observed: AppState, id: string, secretsHash: string, opts: { underLock?: boolean } = {}): DeployDecision {
  const { state, record } = reconcile(observed);
  const cur = state.current;
  if (!cur) return { kind: 'deploy', colour: 'blue', live: null };
  const live = containerFor(state, webService(cur.colour));
  const liveRecord = state.releases.find((r) => r.id === cur.release);
  const settled = opts.underLock || !state.lockHolder;
  if (settled && cur.release === id && liveRecord?.secretsHash === secretsHash && live?.state === 'running' && live.health !== 'unhealthy') {
    // A deploy that lost its connection after the switch left the old colour running: retire it now.
    const idle = otherColour(cur.colour);
    const other = containerFor(state, webService(idle));
    const retire = other?.state === 'running' && !state.retiring?.includes(idle) ? { colour: idle, containerId: other.id } : undefined;
    const repair = record || retire ? { ...(record ? { record } : {}), ...(retire ? { retire } : {}) } : undefined;
    return { kind: 'noop', colour: cur.colour, reason: `release ${id} is already live on ${cur.colour} and healthy`, ...(repair ? { repair } : {}) };
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
