// Every full run of the same code, reported together (PURE). Each full `npm run bench` keeps its
// summary in bench/results/runs/<run id>.json; the report pools the runs of the code under test
// (same code id, same --load): the headline median and p95 are over every measurement of every
// run, never one chosen run; targets that must hold on every run (the switch's p95) are judged run
// by run; and each run is listed with its own figures.
import type { Metric } from './record.ts';
import { formatMachine, formatValue, judge, type MachineInfo, TARGETS, type Verdict } from './report.ts';
import { summarize } from './stats.ts';

export interface StoredMetric {
  label: string;
  unit: Metric['unit'];
  values: number[];
  notes?: string[];
}

/** One full run as kept in bench/results/runs/ (what the bench wrote at its end). */
export interface RunRecord {
  runId: string;
  /** Hash of the code the bench measured (src/bench/code-id.ts): runs of the same code are pooled. */
  codeId: string;
  git?: { head: string; dirty: boolean };
  machine: MachineInfo;
  /** A full run: every scenario, full repetitions (only those are kept and pooled). */
  full: boolean;
  load: number;
  loadAverage: number[];
  elapsedS: number;
  errors: string[];
  metrics: Record<string, StoredMetric>;
  /** "label: value" lines (WebSocket close codes…). */
  notes: string[];
}

export function toMetrics(stored: Record<string, StoredMetric>): Map<string, Metric> {
  const out = new Map<string, Metric>();
  for (const [key, m] of Object.entries(stored)) out.set(key, { key, label: m.label, unit: m.unit, values: [...m.values], summary: summarize(m.values), notes: [...(m.notes ?? [])] });
  return out;
}

/** The full runs of `codeId` at load level `load`, oldest first. */
export function sameCode(records: readonly RunRecord[], codeId: string, load: number): RunRecord[] {
  return records.filter((r) => r.full && r.codeId === codeId && r.load === load).sort((a, b) => a.runId.localeCompare(b.runId));
}

/** Every run's values of each metric in one metric (rows in the order first seen). */
export function poolRuns(runs: readonly Map<string, Metric>[]): Map<string, Metric> {
  const pooled = new Map<string, Metric>();
  for (const run of runs) {
    for (const [key, m] of run) {
      const p = pooled.get(key) ?? { key, label: m.label, unit: m.unit, values: [], summary: summarize([]), notes: [] };
      p.values.push(...m.values);
      for (const n of m.notes) if (!p.notes.includes(n)) p.notes.push(n);
      pooled.set(key, p);
    }
  }
  for (const p of pooled.values()) p.summary = summarize(p.values);
  return pooled;
}

export interface AcrossRuns {
  runs: RunRecord[];
  perRun: Map<string, Metric>[];
  pooled: Map<string, Metric>;
  verdicts: Verdict[];
  /** Each run's notes, prefixed with its number when there are several runs. */
  notes: { label: string; value: string }[];
}

export function acrossRuns(runs: readonly RunRecord[]): AcrossRuns {
  const perRun = runs.map((r) => toMetrics(r.metrics));
  const pooled = poolRuns(perRun);
  const notes = runs.flatMap((r, i) =>
    r.notes.map((n) => {
      const at = n.indexOf(': ');
      const label = at < 0 ? n : n.slice(0, at);
      return { label: runs.length > 1 ? `${label} [run ${i + 1}]` : label, value: at < 0 ? '' : n.slice(at + 2) };
    }),
  );
  return { runs: [...runs], perRun, pooled, verdicts: judge(pooled, perRun), notes };
}

/** Rows of the per-run table besides the targets: the figures a reader compares run to run. */
export const PER_RUN_EXTRA = ['deploy.noop.cold', 'deploy.hot.cold', 'rollback.hot.cold', 'rollback.cold', 'trips.rollback', 'trips.hot', 'litestream.window', 'litestream.window.short'];

const cell = (m: Metric | undefined) => {
  if (!m || m.summary.n === 0) return '';
  const { median, p95, n } = m.summary;
  return n === 1 || median === p95 ? formatValue(median, m.unit) : `${formatValue(median, m.unit)} (p95 ${formatValue(p95, m.unit)})`;
};

/** Markdown: one row per target (and a few figures), one column per run: "median (p95 …)". */
export function formatPerRunTable(a: AcrossRuns): string {
  const keys = [...TARGETS.map((t) => t.key), ...PER_RUN_EXTRA].filter((k) => a.pooled.has(k));
  const targets = new Map(TARGETS.map((t) => [t.key, t]));
  const head = `| metric | target | ${a.runs.map((_, i) => `run ${i + 1}`).join(' | ')} |`;
  const rule = `| --- | --- | ${a.runs.map(() => '---:').join(' | ')} |`;
  const rows = keys.map((k) => {
    const t = targets.get(k);
    const cells = a.perRun.map((r) => {
      const m = r.get(k);
      const c = cell(m);
      return t && m && m.summary.n > 0 ? `${c} ${t.pass(m) ? 'PASS' : 'MISS'}` : c;
    });
    return `| ${a.pooled.get(k)!.label.replace(/\|/g, '\\|')} | ${t?.text ?? ''} | ${cells.join(' | ')} |`;
  });
  return [head, rule, ...rows].join('\n');
}

const minMax = (xs: number[]) => (xs.length ? `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}` : 'not sampled');

/** One line per run: when, how long, on what, under which load, with which errors. */
export function formatRunList(a: AcrossRuns): string[] {
  return a.runs.map((r, i) => {
    const load = r.load ? `${r.load} busy processes beside it` : 'no extra load started by the bench';
    const errs = r.errors.length ? `; ${r.errors.length} scenario error(s): ${r.errors.join('; ')}` : '';
    const git = r.git ? `, commit ${r.git.head.slice(0, 10)}${r.git.dirty ? ' + uncommitted changes' : ''}` : '';
    return `${i + 1}. \`${r.runId}\` — ${(r.elapsedS / 60).toFixed(1)} min; ${load}; 1-minute load average ${minMax(r.loadAverage)}; ${formatMachine(r.machine)}${git}${errs}`;
  });
}
