// Targets, the results table and machine info (PURE formatting; machine info is read by run.ts).
import type { Metric } from './record.ts';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  docker: string;
  compose: string;
  node: string;
  date: string;
}

export interface Target {
  /** Metric key the target applies to. */
  key: string;
  text: string;
  /** Judged on the statistic `text` names: time targets on the median (issues 14, 26), switch and windows on the p95, failures on every run. */
  pass(m: Metric): boolean;
  /**
   * Across several full runs: met only when every run meets it on its own figures (the switch's
   * p95 "on every full run", issue 26), not on the values pooled over all runs.
   */
  everyRun?: boolean;
}

export const TARGETS: Target[] = [
  { key: 'failed.berth.50', text: '0', pass: (m) => m.summary.max === 0 },
  { key: 'failed.berth.200', text: '0', pass: (m) => m.summary.max === 0 },
  { key: 'mixed.start', text: '≤ 250 ms', pass: (m) => m.summary.p95 <= 250, everyRun: true },
  { key: 'switch', text: 'p95 ≤ 250 ms, every run', pass: (m) => m.summary.p95 <= 250, everyRun: true },
  { key: 'rollback.hot', text: 'median ≤ 0.5 s', pass: (m) => m.summary.median <= 500 },
  { key: 'deploy.noop', text: 'median ≤ 0.5 s', pass: (m) => m.summary.median <= 500 },
  { key: 'ssh.noop', text: '1', pass: (m) => m.summary.max <= 1 },
  { key: 'trips.noop', text: '1', pass: (m) => m.summary.max <= 1 },
  { key: 'deploy.hot', text: 'median ≤ 2 s', pass: (m) => m.summary.median <= 2000 },
  { key: 'ws.cut.berth', text: '0', pass: (m) => m.summary.max === 0 },
  { key: 'sse.cut.berth', text: '0', pass: (m) => m.summary.max === 0 },
  { key: 'assets404.berth', text: '0', pass: (m) => m.summary.max === 0 },
  { key: 'failed.fleet.one', text: '0', pass: (m) => m.summary.max === 0 },
  { key: 'failed.fleet.three', text: '0', pass: (m) => m.summary.max === 0 },
  { key: 'fleet.ratio', text: '≤ 1.5', pass: (m) => m.summary.p95 <= 1.5 },
  { key: 'transfer.change.ratio', text: '≤ 1.10', pass: (m) => m.summary.p95 <= 1.1 },
  { key: 'transfer.change.vsRegistry', text: '> 1 (faster)', pass: (m) => m.summary.median > 1 },
];

/** The table's rows, in order; metrics not measured in this run are skipped. */
export const ROW_ORDER = [
  'failed.berth.50', 'failed.berth.200', 'skipped.berth.50', 'skipped.berth.200',
  'failed.berth.50.noka', 'failed.berth.50.ka', 'failed.berth.200.noka', 'failed.berth.200.ka',
  'failed.naive.50', 'failed.naive.200',
  'failed.naive.50.noka', 'failed.naive.50.ka', 'failed.naive.200.noka', 'failed.naive.200.ka',
  'failed.overlap.50', 'failed.overlap.200',
  'failed.overlap.50.noka', 'failed.overlap.50.ka', 'failed.overlap.200.noka', 'failed.overlap.200.ka',
  'mixed.start', 'mixed.completion', 'mixed.completionFast', 'mixed.start.naive', 'mixed.start.overlap',
  'switch', 'switch.rollback', 'ready', 'ready.naive', 'ready.overlap',
  'ws.cut.berth', 'ws.cut.naive', 'ws.cut.overlap', 'sse.cut.berth', 'sse.cut.naive', 'sse.cut.overlap',
  'assets404.berth', 'assets404.naive', 'assets404.overlap',
  'rollback.hot', 'rollback.hot.cold', 'rollback.cold', 'trips.rollback',
  'deploy.noop', 'deploy.noop.cold', 'ssh.noop', 'trips.noop', 'ssh.full',
  'deploy.hot', 'deploy.hot.cold', 'trips.hot', 'docker.hot', 'deploy.underLoad',
  'phase.observe', 'phase.lock', 'phase.upload', 'phase.image', 'phase.support services', 'phase.release command', 'phase.start + health',
  'phase.switch', 'phase.workers', 'phase.record', 'phase.retire', 'phase.total',
  'litestream.window', 'litestream.rows', 'litestream.window.short', 'litestream.rows.short', 'litestream.uploads', 'litestream.uploads.short', 'backup.verify',
  'deploy.fleet.one', 'deploy.fleet.three', 'fleet.ratio', 'failed.fleet.one', 'failed.fleet.three',
  'recover.dockerd', 'recover.reboot',
  'memory.cli.one', 'memory.cli.three',
  ...['h1', 'h2', 'h3'].flatMap((h) => [`memory.edge.${h}.traefik`, `memory.edge.${h}.socket-proxy`]),
  'transfer.image', 'transfer.layer.changed',
  ...['first', 'change'].flatMap((step) => ['berth', 'saveload', 'registry'].flatMap((p) => [`transfer.${step}.${p}.s`, `transfer.${step}.${p}.bytes`])),
  'transfer.change.ratio', 'transfer.change.vsRegistry',
];

export function formatValue(v: number, unit: Metric['unit']): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (unit === 'ms') return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
  if (unit === 's') return `${v.toFixed(2)} s`;
  if (unit === 'MiB') return `${v.toFixed(1)} MiB`;
  if (unit === 'ratio') return `${v.toFixed(2)}×`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export interface Verdict {
  key: string;
  label: string;
  text: string;
  pass: boolean | undefined;
  figure: string;
}

/**
 * Targets against `metrics` (one run's, or every run's values pooled). With `perRun` (each full
 * run's own metrics), an every-run target passes only when each run that measured it passes.
 */
export function judge(metrics: Map<string, Metric>, perRun?: Map<string, Metric>[]): Verdict[] {
  return TARGETS.map((t) => {
    const m = metrics.get(t.key);
    const measured = !!m && m.summary.n > 0;
    const figure = measured ? `median ${formatValue(m!.summary.median, m!.unit)}, p95 ${formatValue(m!.summary.p95, m!.unit)}` : 'not measured';
    const runs = t.everyRun && perRun ? perRun.map((r) => r.get(t.key)).filter((r): r is Metric => !!r && r.summary.n > 0) : undefined;
    if (!measured) return { key: t.key, label: t.key, text: t.text, pass: undefined, figure };
    if (!runs || runs.length < 2) return { key: t.key, label: m!.label, text: t.text, pass: t.pass(m!), figure };
    return {
      key: t.key,
      label: m!.label,
      text: t.text,
      pass: runs.every((r) => t.pass(r)),
      figure: `${figure}; p95 per run ${runs.map((r) => formatValue(r.summary.p95, r.unit)).join(', ')}`,
    };
  });
}

const esc = (s: string) => s.replace(/\|/g, '\\|');

/** Markdown table: metric, n, median, p95, target, PASS/MISS. */
export function formatTable(metrics: Map<string, Metric>, extraRows: { label: string; value: string }[] = [], verdicts?: Verdict[]): string {
  const targets = new Map(TARGETS.map((t) => [t.key, t]));
  const judged = new Map((verdicts ?? []).map((v) => [v.key, v.pass]));
  const keys = [...ROW_ORDER.filter((k) => metrics.has(k)), ...[...metrics.keys()].filter((k) => !ROW_ORDER.includes(k))];
  const lines = ['| metric | n | median | p95 | target | result |', '| --- | ---: | ---: | ---: | --- | --- |'];
  for (const k of keys) {
    const m = metrics.get(k)!;
    const t = targets.get(k);
    const measured = m.summary.n > 0;
    const pass = judged.has(k) ? judged.get(k) : t && measured ? t.pass(m) : undefined;
    const result = t && measured && pass !== undefined ? (pass ? 'PASS' : 'MISS') : '';
    const notes = m.notes.length ? ` (${m.notes.join('; ')})` : '';
    lines.push(`| ${esc(m.label + notes)} | ${m.summary.n} | ${measured ? formatValue(m.summary.median, m.unit) : 'n/a'} | ${measured ? formatValue(m.summary.p95, m.unit) : 'n/a'} | ${t?.text ?? ''} | ${result} |`);
  }
  for (const r of extraRows) lines.push(`| ${esc(r.label)} | | ${esc(r.value)} | | | |`);
  return lines.join('\n');
}

export const formatMachine = (m: MachineInfo) =>
  `${m.cpu}, ${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB RAM, Linux ${m.kernel}, Docker ${m.docker}, Compose ${m.compose}, Node ${m.node}, ${m.date}`;

export const DEFINITIONS = [
  '- **Failed request**: no response (connection error, timeout), any status other than 2xx, or never sent because 400 requests were already in flight (the generator\'s cap; counted as failed, and shown on its own row: on a machine too busy to answer in time it is the first symptom). Load: constant-rate open loop over HTTPS through Traefik, 60 % `GET /`, 30 % `POST /write` (SQLite insert), 10 % `GET /slow?ms=1500`; keep-alive off (a TLS connection per request) and on; 1.5 s of load before the deploy and 4.5–5 s after it returns.',
  '- **Mixed-version window**: T = completion of the first response from the new release. *By request start*: T → start of the last request that was answered by the old release although it started after T (what a client that has seen the new release can still get). *By completion*: T → completion of the last old-release response (includes slow requests the old colour drains; "fast" excludes them).',
  '- **Switch latency**: Berth\'s `switchMs` — routing file written on the host → Traefik\'s API reports the new server (over the deploy\'s SSH connection).',
  '- **Ready-to-serving**: Docker\'s `health_status: healthy` event of the new container → completion of its first response under load after that event (the naive baseline can answer earlier through a stale route: the recreated container reused the old container IP).',
  '- **Deploy / rollback times**: wall time of the real CLI (`node src/cli/launch.mjs deploy|rollback`, what the two-line `scripts/deploy.mjs` imports; Node start-up included, npm\'s own ~0.3 s not), every deploy hot (image on the host). The targeted rows run as an operator\'s next command runs: the SSH master the previous command opened is still up (ControlPersist); the *first command* rows start with every SSH master closed (one more SSH handshake). Phases come from `--json` `timings`. SSH connections: sshd `Accepted publickey` lines during one first-command deploy. Round trips: the `ssh` commands (host scripts; not `ssh -G`, which only reads the local config) and the `docker`/`compose` commands in the command\'s `--verbose` log.',
  '- **Litestream window**: writes acknowledged by the app but missing from `litestream restore` after `docker kill` of app + replicator under 100 writes/s; the writer keeps sending while the kill runs (the kill is an asynchronous child process: nothing blocks the writer) and for 0.3 s after it: time between the ack of the last restored row and the ack of the last acknowledged row. Measured at Berth\'s default `sync_interval` (1 s) and at 100 ms. *Uploads per second*: level-0 LTX files in the replica (`litestream ltx`: one upload per sync that had changes, the first snapshot included) divided by the seconds of writing — what a shorter interval costs in S3 requests.',
  '- **Long-lived connections and assets** (scenario `long-lived`): 20 WebSockets (one echo per second each) and one SSE stream opened on the old release, then a deploy with no other load. *Cut before the retire window*: closed earlier than 5 s (Berth\'s `retire_seconds` for this app) after the switch (Berth: its confirmed switch, `switchedAt`, where the retire window starts; baselines: the deploy\'s return); Berth\'s should end only at the retire, with close 1001 from the app\'s SIGTERM handler (1006 = the connection dropped without a close frame). *Asset failures*: the old page\'s fingerprinted assets fetched right after the deploy returned (Berth with `asset_path`), counting a 404 or no answer within 5 s.',
  '- **Fleet deploy** (scenario `fleet-rolling`): the bench app on h2 alone and the same app config on h1, h2 and h3 with `deploy.batch_size: 3` (all hosts at once; the one-host app has 1), each behind its own front load balancer (the sandbox\'s Cloudflare stand-in, plain HTTP to the origins), hot deploys alternating between the two under 50 req/s (the mix above, keep-alive off) sent to the front with the app\'s Host header. *Wall time*: as for the deploy times below. *Ratio*: median three-host wall time / median one-host wall time. *Failed requests*: as above, counted over the load through the front (1.5 s before the deploy to 4.5 s after it).',
  '- **Recovery after a host fault** (scenario `host-restart`, on h2): from the fault issued — dockerd sent SIGTERM as `systemctl restart docker` does (`restartDocker`), or the machine restarted (`rebootHost`: `docker restart` of the machine container, sshd and dockerd start at boot) — to the completion of the first `GET /` answered 200 through the host\'s edge (Traefik, plain HTTP) by a request started after the first failed one (checked to come after the app container\'s restart, Docker\'s `State.StartedAt`). Probes start every 100 ms whatever the previous one does (2 s timeout each), for at most 120 s; Berth does not run in between.',
  '- **Memory** (scenario `memory`): *Berth CLI peak RSS*: the kernel\'s VmHWM of the Node process that runs the deploy (`node src/cli/launch.mjs deploy …`, what npm\'s `scripts/deploy.mjs` imports; any Node process it starts counts too, the ssh and docker processes do not), read from `/proc/<pid>/status` every 50 ms while it runs, during hot deploys to one host and to three. *Edge memory*: `docker stats --no-stream` MemUsage of each `berth-edge` container (Traefik, docker socket proxy), run on the host\'s console after those deploys: the container cgroup\'s memory usage less its inactive page cache (Docker\'s figure, not only anonymous memory).',
  '- **Image transfer** (scenario `transfer`, on h10 under the transfer lane\'s lock): the Rails stand-in (`sandbox/images/rails`, as the app\'s own git repository) built here, then brought to a host that has none of its layers three ways — Berth with `registry: none` (`shipImage`: the layers leave the local engine through Berth\'s push sink, the host gets those it lacks over SSH), `docker save | ssh docker load` (the whole image, uncompressed), and the sandbox registry as a deploy with a registry uses it (`docker push` here, `docker login` + `docker pull` on the host through its SSH context) — and again after a one-line code change (a comment line in a controller; each path its own, built just before its transfer, as a deploy builds and then ships). *Seconds*: image built here → image tagged on the host. *Bytes on the wire*: what reached the host on eth0, counted by iptables rules on the host (SSH for every path; for the registry path also the registry\'s answers to the pull) plus, for the registry path, what `docker push` uploaded from here (the manifest\'s compressed size of every layer it reported as Pushed, and the config; layers the registry already had or mounted from an earlier run\'s repository upload nothing and are noted). *Changed layers*: the layers of the new image whose chain ID the old one lacks, as uncompressed tars (`docker save`). Ratio target: Berth\'s bytes for the change ≤ 1.1 × the changed layers; speed target: the registry path\'s median seconds / Berth\'s > 1.',
  '- **Statistics**: median and p95 (nearest rank, so with few values p95 is the worst) over every measurement of every full run of the same code (the code id hashes src/, scripts/, sandbox/, the e2e support and the package files as they were in the working tree); each run\'s own figures are listed beside them. Targets are judged on the statistic they name: wall times on the median (issue 26), the switch and mixed-version window on the p95 of EVERY run, failed requests on every value of every run.',
];
