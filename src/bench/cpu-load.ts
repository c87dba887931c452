// `npm run bench -- --load N`: N busy child processes beside the bench (the "loaded machine" of
// issue 14), and the 1-minute load average sampled while the bench runs. Children are killed when
// the bench ends and carry their own deadline, so none outlives a killed bench for long.
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';

const BUSY = 'const end = Date.now() + Number(process.argv[1]); while (Date.now() < end) {}';

export interface CpuLoad {
  stop(): void;
}

export function startCpuLoad(n: number, maxMs = 3 * 3600_000): CpuLoad {
  const kids: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const c = spawn(process.execPath, ['-e', BUSY, String(maxMs)], { stdio: 'ignore' });
    c.on('error', () => {});
    kids.push(c);
  }
  return { stop: () => kids.forEach((c) => c.kill('SIGKILL')) };
}

/** Load-average samples (1 min), one per call; summarised as "min–max". */
export class LoadSampler {
  readonly samples: number[] = [];
  sample(): void {
    this.samples.push(os.loadavg()[0]!);
  }
  describe(): string {
    if (!this.samples.length) return 'not sampled';
    return `${Math.min(...this.samples).toFixed(1)}–${Math.max(...this.samples).toFixed(1)}`;
  }
}
