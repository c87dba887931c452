// The bench runs on h1–h3, the main end-to-end lane's machines (test/e2e/lanes.ts): it holds that
// lane's lock for its whole run, as the e2e runner does, so a bench and an e2e run never share the
// machines. The lock is held by a `flock` child whose command reads its stdin: when the bench ends,
// however it ends (even SIGKILL), the pipe closes, the child exits and the lock is free.
import { spawn } from 'node:child_process';
import { laneLockFile } from '../../test/e2e/lanes.ts';

export const BENCH_LANE = 'main';

export interface LaneLock {
  release(): void;
}

/** Wait for the lane's lock (logging once while waiting), then hold it until release() or exit. */
export function holdLaneLock(lane: string, log: (msg: string) => void, timeoutMs = 3 * 3600_000): Promise<LaneLock> {
  const file = laneLockFile(lane);
  return new Promise((resolve, reject) => {
    const child = spawn('flock', ['-w', String(Math.ceil(timeoutMs / 1000)), file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let held = false;
    const waiting = setTimeout(() => log(`waiting for the ${lane} lane's lock (${file}): an end-to-end run holds h1–h3`), 1000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!held && out.includes('locked')) {
        held = true;
        clearTimeout(waiting);
        // Held: the child must neither keep the bench alive nor outlive it.
        child.unref();
        for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
        resolve({ release: () => void child.stdin.end() });
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      clearTimeout(waiting);
      reject(new Error(`could not take the ${lane} lane's lock ${file} with flock: ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(waiting);
      if (!held) reject(new Error(`could not take the ${lane} lane's lock ${file} (flock exit ${code}${err.trim() ? `: ${err.trim()}` : ''})`));
    });
  });
}
