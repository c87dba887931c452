// One deploy per app per host. The lock is a directory on the host (mkdir is atomic); its holder
// file names who holds it and is touched as a heartbeat every few seconds while held. A holder
// that missed a few beats (src/plan/lock-policy.ts), or whose process on this machine is gone, is
// taken over safely (compare-and-swap on the holder).
import { hostname, userInfo } from 'node:os';
import { LockError } from '../errors.ts';
import type { Runner } from '../docker/runner.ts';
import type { SshTarget } from '../docker/ssh.ts';
import { hostScripts, LOCK_HELD_EXIT, type ScriptPart, scriptParts, THEN_MARKER, thenOutput } from './host-scripts.ts';
import { DEFAULT_LOCK_POLICY, judgeLock, type LockPolicy, staleAfterSeconds } from '../plan/lock-policy.ts';

export interface Holder {
  user: string;
  machine: string;
  pid: number;
  command: string;
  since: string;
}

export interface HeldLock {
  /**
   * Release; `then` runs in the same round trip (its output is returned; undefined if it did not
   * run). Nothing more once another round trip released it (releasePart).
   */
  release(then?: ScriptPart): Promise<string | undefined>;
  /**
   * The release (and `then`) as the last part of another round trip. Hand what that part printed
   * to settled(): when it released the lock, the heartbeat stops and release() does nothing.
   */
  releasePart(then?: ScriptPart): ScriptPart;
  /** `then`'s output (undefined when the release part did not run). */
  settled(output: string | undefined): string | undefined;
  heartbeat(): Promise<void>;
}

export const holderJson = (h: Holder) => JSON.stringify(h);

const processAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export async function acquireLock(
  runner: Runner,
  ssh: SshTarget,
  lockPath: string,
  command: string,
  /** `holderGone`: a reason when the holder is known to be gone (e.g. a host job that no longer runs). */
  opts: { policy?: LockPolicy; host: string; app: string; now: Date; then?: ScriptPart; holderGone?: (holder: Partial<Holder>) => string | undefined },
): Promise<HeldLock & { takenOver: boolean; takeoverReason?: string; thenOutput?: string }> {
  const policy = opts.policy ?? DEFAULT_LOCK_POLICY;
  const me: Holder = { user: userInfo().username, machine: hostname(), pid: process.pid, command, since: opts.now.toISOString() };
  const mine = holderJson(me);
  // `then` (e.g. the observation a deploy decides on) runs in the same round trip once the lock is
  // taken at the first try; after a takeover the caller runs it on its own.
  let res = await runner.run(hostScripts.lockAcquire(ssh, lockPath, mine, opts.then), { allowFailure: true });
  const then = res.exitCode === 0 && opts.then ? thenOutput(res.stdout) : undefined;
  let takeoverReason: string | undefined;
  if (res.exitCode === LOCK_HELD_EXIT) {
    const [head = '', ...rest] = res.stdout.trim().split('\n');
    const seen = rest.join('\n').trim();
    const [, nowS, beatS] = head.split(' ');
    let other: Partial<Holder> = {};
    try {
      other = JSON.parse(seen) as Holder;
    } catch {
      /* unreadable holder: judged by its heartbeat alone */
    }
    const goneReason = opts.holderGone?.(other);
    const processGone = !!goneReason || (other.machine === me.machine && typeof other.pid === 'number' && !processAlive(other.pid));
    const verdict = judgeLock({ nowSeconds: Number(nowS), beatSeconds: Number(beatS), holderProcessGone: processGone }, policy);
    if (verdict.takeOver) {
      takeoverReason = goneReason ?? verdict.reason;
      res = await runner.run(hostScripts.lockTakeover(ssh, lockPath, seen || '{}', mine, processGone ? -1 : staleAfterSeconds(policy)), { allowFailure: true });
    }
    if (res.exitCode !== 0) {
      const who = `${other.user ? `${other.user}@${other.machine} (pid ${other.pid}, "${other.command}", since ${other.since})` : seen}; ${verdict.reason}`;
      throw new LockError(`${opts.app} on ${opts.host}`, who, `ssh -p ${ssh.port} ${ssh.user}@${ssh.address} rm -rf ${lockPath}`);
    }
  } else if (res.exitCode !== 0) {
    throw new LockError(`${opts.app} on ${opts.host}`, `unknown (lock script failed: ${res.stderr.trim()})`, `ssh -p ${ssh.port} ${ssh.user}@${ssh.address} rm -rf ${lockPath}`);
  }
  const heartbeat = async () => {
    await runner.run(hostScripts.lockHeartbeat(ssh, lockPath), { allowFailure: true });
  };
  // Beat while held, so another machine can tell a live holder from a dead one within seconds.
  const timer = setInterval(() => void heartbeat().catch(() => {}), policy.heartbeatSeconds * 1000);
  let released = false;
  let releasedThen: string | undefined;
  timer.unref();
  const takenOver = (then === undefined ? res.stdout : res.stdout.slice(0, res.stdout.length - then.length)).includes('taken-over');
  return {
    thenOutput: then,
    takenOver,
    takeoverReason: takenOver ? takeoverReason : undefined,
    release: async (then) => {
      if (released) return releasedThen;
      clearInterval(timer);
      const r = await runner.run(hostScripts.lockRelease(ssh, lockPath, mine, then), { allowFailure: true });
      return then && r.exitCode === 0 ? thenOutput(r.stdout) : undefined;
    },
    releasePart: (then) => scriptParts.lockRelease(lockPath, mine, then),
    settled: (output) => {
      if (output === undefined || !/^(released|not-ours)$/m.test(output.split(`\n${THEN_MARKER}\n`)[0]!)) return undefined;
      released = true;
      clearInterval(timer);
      releasedThen = thenOutput(output);
      return releasedThen;
    },
    heartbeat,
  };
}
