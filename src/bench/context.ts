// What every scenario gets: the recorder, repetition counts, a raw-data sink and a progress log.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Recorder } from './record.ts';

export interface BenchContext {
  rec: Recorder;
  quick: boolean;
  /** Repetitions: the full count, or the quick one with --quick. */
  reps(full: number, quick?: number): number;
  /** Write raw per-run data (samples…) to bench/results/raw/<run id>/<name>.json (gitignored). */
  raw(name: string, data: unknown): void;
  log(msg: string): void;
}

export function makeContext(rec: Recorder, quick: boolean, rawDir: string): BenchContext {
  mkdirSync(rawDir, { recursive: true });
  return {
    rec,
    quick,
    reps: (full, q = 1) => (quick ? q : full),
    raw: (name, data) => writeFileSync(join(rawDir, `${name}.json`), JSON.stringify(data)),
    log: (msg) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`),
  };
}
