// When a deploy lock's holder counts as dead (pure). A holder touches its heartbeat file every
// LOCK_HEARTBEAT_SECONDS; after a few missed beats (measured on the host's own clock, so clock skew
// between operator machines does not matter) any machine may take the lock over.

export const LOCK_HEARTBEAT_SECONDS = 10;
export const LOCK_MISSED_BEATS = 3;

export interface LockPolicy {
  heartbeatSeconds: number;
  missedBeats: number;
}

export const DEFAULT_LOCK_POLICY: LockPolicy = { heartbeatSeconds: LOCK_HEARTBEAT_SECONDS, missedBeats: LOCK_MISSED_BEATS };

/** Seconds of silence after which a holder is dead: the missed beats plus half a beat of slack for a slow round trip. */
export const staleAfterSeconds = (p: LockPolicy = DEFAULT_LOCK_POLICY) => p.heartbeatSeconds * p.missedBeats + Math.ceil(p.heartbeatSeconds / 2);

export interface LockObservation {
  /** The host's clock and the heartbeat file's mtime, epoch seconds. */
  nowSeconds: number;
  beatSeconds: number;
  /** The holder runs on this machine and its process is gone (no need to wait for beats). */
  holderProcessGone?: boolean;
}

export type LockVerdict = { takeOver: true; reason: string } | { takeOver: false; reason: string };

export function judgeLock(o: LockObservation, p: LockPolicy = DEFAULT_LOCK_POLICY): LockVerdict {
  if (o.holderProcessGone) return { takeOver: true, reason: 'its process on this machine is gone' };
  const silent = o.nowSeconds - o.beatSeconds;
  const limit = staleAfterSeconds(p);
  if (silent > limit) return { takeOver: true, reason: `its heartbeat stopped ${silent}s ago (limit ${limit}s: ${p.missedBeats} missed beats of ${p.heartbeatSeconds}s)` };
  return { takeOver: false, reason: `its heartbeat is ${Math.max(0, silent)}s old (taken over after ${limit}s of silence)` };
}
