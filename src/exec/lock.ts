// One deploy per app per host. The lock is a directory on the host (mkdir is atomic); its holder
// file names who holds it and is touched as a heartbeat. A holder that stopped beating for
// `staleSeconds`, or whose process on this machine is gone, is taken over safely.
import { hostname, userInfo } from 'node:os';
import { LockError } from '../errors.ts';
import type { Runner } from '../docker/runner.ts';
import type { SshTarget } from '../docker/ssh.ts';
import { hostScripts, LOCK_HELD_EXIT } from './host-scripts.ts';

export interface Holder {
  user: string;
  machine: string;
  pid: number;
  command: string;
  since: string;
}

export interface HeldLock {
  release(): Promise<void>;
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
  opts: { staleSeconds?: number; host: string; app: string; now: Date },
): Promise<HeldLock & { takenOver: boolean }> {
  const me: Holder = { user: userInfo().username, machine: hostname(), pid: process.pid, command, since: opts.now.toISOString() };
  const mine = holderJson(me);
  let res = await runner.run(hostScripts.lockAcquire(ssh, lockPath, mine, opts.staleSeconds ?? 900), { allowFailure: true });
  if (res.exitCode === LOCK_HELD_EXIT) {
    const seen = res.stdout.trim();
    let other: Partial<Holder> = {};
    try {
      other = JSON.parse(seen) as Holder;
    } catch {
      /* unreadable holder: treated as alive */
    }
    // A holder on this very machine whose process is gone died mid-deploy: take over.
    if (other.machine === me.machine && typeof other.pid === 'number' && !processAlive(other.pid)) {
      res = await runner.run(hostScripts.lockTakeover(ssh, lockPath, seen, mine), { allowFailure: true });
    }
    if (res.exitCode !== 0) {
      const who = other.user ? `${other.user}@${other.machine} (pid ${other.pid}, "${other.command}", since ${other.since})` : seen;
      throw new LockError(`${opts.app} on ${opts.host}`, who, `ssh -p ${ssh.port} ${ssh.user}@${ssh.address} rm -rf ${lockPath}`);
    }
  } else if (res.exitCode !== 0) {
    throw new LockError(`${opts.app} on ${opts.host}`, `unknown (lock script failed: ${res.stderr.trim()})`, `ssh -p ${ssh.port} ${ssh.user}@${ssh.address} rm -rf ${lockPath}`);
  }
  return {
    takenOver: res.stdout.includes('taken-over'),
    release: async () => {
      await runner.run(hostScripts.lockRelease(ssh, lockPath, mine), { allowFailure: true });
    },
    heartbeat: async () => {
      await runner.run(hostScripts.lockHeartbeat(ssh, lockPath), { allowFailure: true });
    },
  };
}
