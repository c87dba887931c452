// Collects repeated measurements under stable keys; the report turns them into the table.
import { summarize, type Summary } from './stats.ts';

export interface Metric {
  key: string;
  label: string;
  unit: 'ms' | 's' | 'count' | 'rows' | 'MiB' | 'ratio';
  values: number[];
  summary: Summary;
  notes: string[];
}

export class Recorder {
  readonly metrics = new Map<string, Metric>();
  /** Per-run details (no raw samples) kept in latest.json. */
  readonly runs: Record<string, unknown>[] = [];
  readonly notes: string[] = [];

  add(key: string, label: string, unit: Metric['unit'], value: number | undefined, note?: string) {
    let m = this.metrics.get(key);
    if (!m) {
      m = { key, label, unit, values: [], summary: summarize([]), notes: [] };
      this.metrics.set(key, m);
    }
    if (value !== undefined && Number.isFinite(value)) m.values.push(value);
    if (note && !m.notes.includes(note)) m.notes.push(note);
    m.summary = summarize(m.values);
  }

  run(details: Record<string, unknown>) {
    this.runs.push(details);
  }

  get(key: string): Metric | undefined {
    return this.metrics.get(key);
  }
}
