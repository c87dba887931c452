// Pure deploy/rollback decisions: observed state + desired release in, a decision out.
import { type Colour, otherColour, webService } from '../names.ts';
import { type AppState, containerFor, type ReleaseRecord } from '../exec/state.ts';

/** Left over by a deploy interrupted after its switch: what a later run finishes. */
export interface Repair {
  /** current.json names another colour than the route: write this record. */
  record?: { release: string; colour: Colour; previous: { release: string; colour: Colour } };
  /** The other colour still runs and no retire is pending: retire it. */
  retire?: { colour: Colour; containerId: string };
  /**
   * Services of the live release that were stopped (`docker stop`, `docker kill`: Docker's restart
   * policy leaves them down) or are missing: started again in place, the live colour first.
   */
  start?: string[];
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

/** A container that is down and stays down (Docker restarts neither a stopped nor a killed one), or none. */
export const isDown = (c: { state: string } | undefined) => !c || c.state === 'exited' || c.state === 'created' || c.state === 'dead';

/**
 * `underLock`: the state was read while this deploy held the app's lock. Without it, "nothing
 * changed" is only answered when no other deploy held the lock around the read (it may be
 * replacing the very release we found live); otherwise the deploy takes the lock and decides again.
 * When the observation hashed the wanted secret set's files on the host (`secretsCheck`), the live
 * colour must mount that set (its label) and the files must still hash to it: a no-op checks the
 * values too. `services`: the release's other services that should run (workers, replicator,
 * accessories, backup loops); any that is down is started again, as is a stopped live colour.
 * Without `services` (an engine that cannot start them in place) a stopped live colour is redeployed.
 */
export function planDeploy(observed: AppState, id: string, secretsHash: string, opts: { underLock?: boolean; services?: string[] } = {}): DeployDecision {
  const { state, record } = reconcile(observed);
  const cur = state.current;
  if (!cur) return { kind: 'deploy', colour: 'blue', live: null };
  const live = containerFor(state, webService(cur.colour));
  const liveRecord = state.releases.find((r) => r.id === cur.release);
  const settled = opts.underLock || !state.lockHolder;
  const ownValues = state.secretsCheck === undefined || (live?.secrets === secretsHash && state.secretsCheck === secretsHash);
  const up = live?.state === 'running' && live.health !== 'unhealthy';
  const stopped = !!opts.services && !!live && isDown(live);
  if (settled && cur.release === id && liveRecord?.secretsHash === secretsHash && ownValues && (up || stopped)) {
    // A deploy that lost its connection after the switch left the old colour running: retire it now.
    const idle = otherColour(cur.colour);
    const other = containerFor(state, webService(idle));
    const retire = other?.state === 'running' && !state.retiring?.includes(idle) ? { colour: idle, containerId: other.id } : undefined;
    const down = (opts.services ?? []).filter((s) => s !== webService(idle) && s !== webService(cur.colour) && isDown(containerFor(state, s)));
    const start = [...(stopped ? [webService(cur.colour)] : []), ...down];
    const repair = record || retire || start.length ? { ...(record ? { record } : {}), ...(retire ? { retire } : {}), ...(start.length ? { start } : {}) } : undefined;
    const reason = `release ${id} is already live on ${cur.colour}${stopped ? '' : ' and healthy'}`;
    return { kind: 'noop', colour: cur.colour, reason, ...(repair ? { repair } : {}) };
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

/** The release a rollback goes back to (the previous one, or `to`), or why there is none. */
export function rollbackTarget(state: AppState, to?: string): { kind: 'refuse'; reason: string } | { kind: 'target'; target: ReleaseRecord; current: NonNullable<AppState['current']> } {
  const cur = state.current;
  if (!cur) return { kind: 'refuse', reason: 'nothing is deployed yet' };
  const wanted = to ?? cur.previous?.release;
  if (!wanted) return { kind: 'refuse', reason: 'there is no previous release to roll back to (use --to <release>)' };
  if (wanted === cur.release) return { kind: 'refuse', reason: `release ${wanted} is already live` };
  const target = state.releases.find((r) => r.id === wanted);
  if (!target) return { kind: 'refuse', reason: `release ${wanted} is not recorded on the host (known: ${state.releases.map((r) => r.id).join(', ') || 'none'})` };
  return { kind: 'target', target, current: cur };
}

export function planRollback(state: AppState, to?: string): RollbackDecision {
  const picked = rollbackTarget(state, to);
  if (picked.kind === 'refuse') return picked;
  const { target, current: cur } = picked;
  const colour = otherColour(cur.colour);
  const idle = containerFor(state, webService(colour));
  // The idle colour still holds the target release: starting it needs no pull and no recreate.
  const reuse = !!idle && !!target.containerId && idle.id.startsWith(target.containerId);
  const live = containerFor(state, webService(cur.colour));
  return { kind: 'rollback', target, colour, reuse, live: { colour: cur.colour, release: cur.release, containerId: live?.id } };
}
