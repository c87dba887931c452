// Day-two operations: status (every app on every host), logs, exec and config aliases.
import { connect } from 'node:tls';
import { loadProject } from '../config/load.ts';
import { placeApp } from '../plan/placement.ts';
import type { App, Project } from '../config/schema.ts';
import { compose } from '../docker/argv.ts';
import { StepError, UnknownNameError } from '../errors.ts';
import { PLAIN, type Paint } from '../log/colour.ts';
import { filterHosts, type HostFilter, requireHost } from '../config/host-filter.ts';
import type { AppState } from '../exec/state.ts';
import { withSecretEnv } from '../plan/secret-env.ts';
import { appProject, type Colour, LITESTREAM_SERVICE, otherColour, webService } from '../names.ts';
import { isDown } from '../plan/deploy-plan.ts';
import { restoreNote } from '../plan/restore-journal.ts';
import { composeTarget, observeApp } from './app-on-host.ts';
import { splitCommand } from '../docker/command.ts';
import { findApp } from './app-context.ts';
import { type CertHealth, type CertObservation, evaluateCertHealth } from '../plan/cert-health.ts';
import type { Deps } from './deps.ts';
import { ensureContext, type HostHandle, hostHandle } from './host.ts';
import { clusterExec, clusterLogs, clusterStatus, tasksHealthy } from '../engine/swarm/ops.ts';

/** The app and its project when it runs on a cluster (logs, exec and the like go to the Swarm engine). */
async function clusterApp(deps: Deps, name: string): Promise<{ project: Project; app: App } | undefined> {
  const project = await loadProject(deps.root);
  const app = findApp(project, name);
  return app.config.cluster ? { project, app } : undefined;
}

/** Every host the app has something on: web, a worker or an accessory (src/plan/placement.ts). */
export const hostsOf = (project: Project, app: App) => placeApp(app, project.hosts).hosts;

export interface StatusRow {
  host: string;
  app: string;
  release: string;
  colour: string;
  health: string;
  domains: string[];
  /** Per domain: what this host serves, and its health (red within 14 days or when hosts differ). */
  certificate: CertHealth[];
  previous?: string;
  /** What is wrong besides the health column, each with the command that repairs it (red when any). */
  problems: string[];
  /** In maintenance on this host (`berth maintenance`): since when, by whom, the message. */
  maintenance?: { since: string; by?: string; message?: string };
}

/** Certificate the host serves for a domain (SNI), read over TLS from this machine. */
export function peerCertificate(address: string, port: number, servername: string, timeoutMs = 3000): Promise<{ expires?: string; issuer?: string; fingerprint?: string; error?: string }> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port, servername, rejectUnauthorized: false, timeout: timeoutMs }, () => {
      const c = sock.getPeerCertificate();
      sock.destroy();
      resolve({
        expires: c?.valid_to ? new Date(c.valid_to).toISOString() : undefined,
        issuer: [c?.issuer?.CN ?? ''].flat().join(','),
        fingerprint: c?.fingerprint256 || undefined,
      });
    });
    sock.on('error', (e) => resolve({ error: e.message }));
    sock.on('timeout', () => {
      sock.destroy();
      resolve({ error: 'timeout' });
    });
  });
}

export function summarise(state: AppState, app = '<app>'): { release: string; colour: string; health: string; previous?: string; maintenance?: StatusRow['maintenance']; problems: string[] } {
  const m = state.maintenance;
  const maintenance = m ? { maintenance: { since: m.since, ...(m.by ? { by: m.by } : {}), ...(m.message ? { message: m.message } : {}) } } : {};
  if (!state.current) return { release: '-', colour: '-', health: 'not deployed', ...maintenance, problems: [] };
  // Docker restarts neither a stopped nor a killed container: say what is down and what brings it
  // back (a restore that runs or was cut off first: it owns the containers).
  const problems = (skip?: string) => {
    if (state.restore) return [restoreNote(app, state.restore)];
    const down = [...new Set(state.containers.filter((x) => x.service && x.service !== skip && isDown(x)).map((x) => x.service))].sort();
    return down.length ? [`${down.join(', ')} ${down.length > 1 ? 'are' : 'is'} stopped: run npm run start -- ${app} (or any deploy)`] : [];
  };
  // A host that runs no web (workers, accessories): its services' state, no colour.
  if (!state.current.colour) return { release: state.current.release, colour: '-', health: servicesHealth(state), previous: state.current.previous?.release, ...maintenance, problems: problems() };
  const live = webService(state.current.colour);
  const c = state.containers.find((x) => x.service === live);
  const health = !c ? 'missing' : c.state !== 'running' ? c.state : (c.health ?? 'running');
  return { release: state.current.release, colour: state.current.colour, health, previous: state.current.previous?.release, ...maintenance, problems: problems(webService(otherColour(state.current.colour))) };
}

export async function status(deps: Deps, opts: { app?: string; certs?: boolean; host?: string }): Promise<StatusRow[]> {
  const project = await loadProject(deps.root);
  const apps = opts.app ? [findApp(project, opts.app)] : project.apps;
  if (opts.host) requireHost(project.hosts, opts.host);
  const rows: StatusRow[] = [];
  const handles = new Map<string, HostHandle>();
  for (const app of apps) {
    if (app.config.cluster) {
      rows.push(...(await clusterStatusRows(deps, project, app, opts)));
      continue;
    }
    const names = opts.host ? hostsOf(project, app).filter((n) => n === opts.host) : hostsOf(project, app);
    const web = placeApp(app, project.hosts).web;
    for (const hn of names) {
      let h = handles.get(hn);
      if (!h) {
        h = hostHandle(hn, project.hosts[hn]!);
        await ensureContext(deps.runner, h);
        handles.set(hn, h);
      }
      let s: ReturnType<typeof summarise>;
      try {
        s = summarise(await observeApp(deps, h, app.name), app.name);
      } catch (e) {
        s = { release: '?', colour: '?', health: `unreachable: ${(e as Error).message.split('\n')[0]}`, problems: [] };
      }
      const certificate: CertObservation[] = [];
      if (opts.certs !== false && app.config.tls.mode !== 'none' && web.includes(hn)) {
        for (const d of app.config.domains) {
          // A wildcard is read through one name under it (SNI cannot carry "*").
          const sni = d.startsWith('*.') ? `berth-status.${d.slice(2)}` : d;
          certificate.push({ host: hn, domain: d, ...(await peerCertificate(project.hosts[hn]!.public_ip ?? h.ssh.address, project.edge.entrypoints.https, sni)) });
        }
      }
      rows.push({ host: hn, app: app.name, domains: web.includes(hn) ? app.config.domains : [], certificate: certificate as CertHealth[], ...s });
    }
  }
  // Health is judged across hosts (one domain, different certificates), then put back per row.
  const health = evaluateCertHealth(rows.flatMap((r) => r.certificate), deps.now());
  let i = 0;
  for (const r of rows) r.certificate = r.certificate.map(() => health[i++]!);
  return rows;
}

/** "running" when every container of the app on the host runs (healthy where it has a check), else what is not. */
export function servicesHealth(state: AppState): string {
  const bad = state.containers.filter((c) => c.state !== 'running' || c.health === 'unhealthy');
  if (!state.containers.length) return 'missing';
  return bad.length ? bad.map((c) => `${c.service} ${c.state !== 'running' ? c.state : c.health}`).join(', ') : 'running';
}

/** A row is red when its app is not healthy or one of its certificates is red. */
export const statusRed = (r: StatusRow) => (r.health !== 'healthy' && r.health !== 'running' && !tasksHealthy(r.health)) || r.problems.length > 0 || r.certificate.some((c) => c.state === 'red');

/** A cluster app: one row named after its cluster; certificates as each edge (manager) serves them. */
async function clusterStatusRows(deps: Deps, project: Project, app: App, opts: { certs?: boolean; host?: string }): Promise<StatusRow[]> {
  const cluster = project.clusters?.[app.config.cluster!];
  if (opts.host && opts.host !== app.config.cluster && !cluster?.hosts.includes(opts.host)) return [];
  let s: Awaited<ReturnType<typeof clusterStatus>>;
  try {
    s = await clusterStatus(deps, project, app);
  } catch (e) {
    s = { release: '?', colour: '?', health: `unreachable: ${(e as Error).message.split('\n')[0]}` };
  }
  const certificate: CertObservation[] = [];
  if (opts.certs !== false && app.config.tls.mode !== 'none') {
    for (const hn of cluster?.managers ?? []) {
      for (const d of app.config.domains) {
        const sni = d.startsWith('*.') ? `berth-status.${d.slice(2)}` : d;
        certificate.push({ host: hn, domain: d, ...(await peerCertificate(project.hosts[hn]!.public_ip ?? hostHandle(hn, project.hosts[hn]!).ssh.address, project.edge.entrypoints.https, sni)) });
      }
    }
  }
  return [{ host: app.config.cluster!, app: app.name, domains: app.config.domains, certificate: certificate as CertHealth[], problems: [], ...s }];
}

/** The table; with a colour paint, health and certificate cells are green or red (widths from the plain text). */
export function formatStatus(rows: StatusRow[], p: Paint = PLAIN): string {
  const header = ['HOST', 'APP', 'RELEASE', 'COLOUR', 'HEALTH', 'DOMAINS', 'CERT EXPIRES', 'CERT', 'MAINTENANCE'];
  const data = rows.map((r) => [
    r.host, r.app, r.release, r.colour, r.health, r.domains.join(',') || '-',
    r.certificate.map((c) => (c.expires ? c.expires.slice(0, 10) : c.error ? `error: ${c.error}` : '-')).join(',') || '-',
    r.certificate.map((c) => (c.state === 'ok' ? 'ok' : `RED ${c.domain}: ${c.reasons.join('; ')}`)).join(', ') || '-',
    r.maintenance ? `since ${r.maintenance.since.replace(/:\d\d\.\d+Z$/, 'Z')}${r.maintenance.message ? `: ${r.maintenance.message.slice(0, 60)}` : ''}` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...data.map((d) => d[i]!.length)));
  const cell = (c: string, i: number, head: boolean) => {
    const padded = i === header.length - 1 ? c : c.padEnd(widths[i]!);
    if (head) return p.bold(padded);
    if (i === 4) return c === 'healthy' || c === 'running' ? p.green(padded) : p.red(padded);
    if (i === 7 && c.startsWith('RED')) return p.red(padded);
    return padded;
  };
  // What is wrong besides the columns, each with the command that repairs it.
  const notes = rows.flatMap((r) => r.problems.map((x) => p.red(`${r.host} ${r.app}: ${x}`)));
  return [...[header, ...data].map((row, r) => row.map((c, i) => cell(c, i, r === 0)).join('  ').trimEnd()), ...notes].join('\n');
}

/** The app's hosts, or the one named with --host (which must be one of them). */
export function selectOpsHosts(project: Project, app: App, host?: string): string[] {
  const all = hostsOf(project, app);
  if (!host) return all;
  if (!all.includes(host)) throw new UnknownNameError(`${app.name} does not run on "${host}" (its hosts: ${all.join(', ') || 'none'}); see hosts:/roles: in ${app.file}`);
  return [host];
}

interface LiveTarget {
  host: string;
  colour: Colour;
  target: ReturnType<typeof composeTarget>;
}

/**
 * The hosts a service lives on (placement): a worker, an accessory, its backup loop or the replicator
 * where they run; the web colours (no service named) on the web hosts.
 */
export function serviceHosts(app: App, project: Project, service?: string): string[] {
  const p = placeApp(app, project.hosts);
  if (!service || /^web-(blue|green)$/.test(service)) return p.web;
  const worker = /^worker-(.+)$/.exec(service)?.[1];
  if (worker && p.workers[worker]) return p.workers[worker]!;
  if (service === LITESTREAM_SERVICE) return p.imageHosts;
  const acc = p.accessories[service] ?? p.accessories[service.replace(/-backup$/, '')];
  return acc ?? p.hosts;
}

/** The live colour on each selected host; a host where the app is not deployed is an error for that host. */
async function liveTargets(deps: Deps, appName: string, host?: string, only?: HostFilter, service?: string): Promise<{ live: LiveTarget[]; missing: string[] }> {
  const project = await loadProject(deps.root);
  const app = findApp(project, appName);
  // --host names one host; --hosts/--roles narrow the app's hosts (both: the host must pass the filter).
  const names0 = host ? selectOpsHosts(project, app, host).filter((n) => filterHosts(app, project.hosts, only).includes(n)) : filterHosts(app, project.hosts, only);
  // Only where the service (default: the web colours) runs.
  const where = serviceHosts(app, project, service);
  if (host && !where.includes(host)) throw new StepError('host', `${app.name}'s ${service ?? 'web'} does not run on "${host}" (it runs on ${where.join(', ') || 'no host'}); see the placement in ${app.file}`);
  const names = names0.filter((n) => where.includes(n));
  if (!names.length) throw new StepError('exec', `${appName} has no host`);
  const live: LiveTarget[] = [];
  const missing: string[] = [];
  for (const hn of names) {
    const h = hostHandle(hn, project.hosts[hn]!);
    await ensureContext(deps.runner, h);
    const state = await observeApp(deps, h, app.name);
    if (!state.current) missing.push(hn);
    else live.push({ host: hn, colour: state.current.colour, target: { ...composeTarget(deps, h, app.name, {}), files: [], project: appProject(app.name) } });
  }
  if (!live.length) throw new StepError('exec', `${appName} is not deployed on ${missing.join(', ')}`);
  return { live, missing };
}

/** Prefix every line with its host, so output from several hosts stays attributable. */
export const prefixLines = (host: string, text: string) =>
  text
    .split('\n')
    .filter((l, i, all) => l !== '' || i < all.length - 1)
    .map((l) => `${host} | ${l}`)
    .join('\n');

/** One line under its host's name, padded to the longest name so the lines of several hosts align. */
export const prefixLine = (host: string, line: string, width = host.length) => `${host.padEnd(width)} | ${line}`;

export interface LogsOptions {
  app: string;
  follow?: boolean;
  tail?: number;
  service?: string;
  host?: string;
  only?: HostFilter;
  /** Docker's --since: "900s" or an ISO time. */
  since?: string;
  /** Only lines containing this text. */
  grep?: string;
}

/**
 * Logs of the live colour on every host of the app (or the one named with --host). One host and
 * no --grep: streamed as compose prints them, on the terminal. Otherwise each line is read here
 * (filtered by --grep) and, with several hosts, prefixed with its host: without --follow one host
 * after another, with --follow every host at once, interleaved as lines arrive, until Ctrl-C.
 */
export async function logs(deps: Deps, opts: LogsOptions): Promise<number> {
  const cluster = await clusterApp(deps, opts.app);
  if (cluster) return clusterLogs(deps, cluster.project, cluster.app, opts);
  const { live, missing } = await liveTargets(deps, opts.app, opts.host, opts.only, opts.service);
  const cmd = (t: LiveTarget) => compose.logs(t.target, [opts.service ?? webService(t.colour)], opts.tail ?? 100, opts.follow, opts.since);
  const several = live.length + missing.length > 1;
  if (!several && opts.grep === undefined) return (await deps.runner.run(cmd(live[0]!), { interactive: true })).exitCode;
  const width = Math.max(...live.map((t) => t.host.length));
  const stream = async (t: LiveTarget) => {
    const r = await deps.runner.run(cmd(t), {
      allowFailure: true,
      onLine: (line) => {
        if (opts.grep !== undefined && !line.includes(opts.grep)) return;
        deps.log.output(several ? prefixLine(t.host, line, width) : line);
      },
    });
    if (r.exitCode !== 0) deps.log.error(`${t.host}: docker compose logs exited ${r.exitCode}`);
    return r.exitCode;
  };
  let codes: number[] = [];
  if (opts.follow) codes = await Promise.all(live.map(stream));
  else for (const t of live) codes.push(await stream(t));
  for (const m of missing) deps.log.error(`${m}: ${opts.app} is not deployed there`);
  return missing.length || codes.some((c) => c !== 0) ? 1 : 0;
}

/**
 * Run a command in the live container on every host of the app (or the one named with --host).
 * One host: its terminal and exit code as they are. Several: one after another, each under a
 * `--- <host>` header, non-interactive; the exit code is the first non-zero one.
 */
export async function exec(deps: Deps, opts: { app: string; command: string[]; interactive?: boolean; host?: string; only?: HostFilter; all?: boolean; replica?: number }): Promise<{ exitCode: number }> {
  const cluster = await clusterApp(deps, opts.app);
  if (cluster) return clusterExec(deps, cluster.project, cluster.app, opts);
  if (opts.replica !== undefined) throw new StepError('exec', `--replica picks a task of a cluster app; ${opts.app} runs per host (use --host)`);
  const { live, missing } = await liveTargets(deps, opts.app, opts.host, opts.only);
  if (live.length === 1 && !missing.length) {
    const t = live[0]!;
    return deps.runner.run(compose.exec(t.target, webService(t.colour), withSecretEnv(opts.command), !!opts.interactive), { interactive: true, allowFailure: true });
  }
  let exitCode = 0;
  for (const t of live) {
    deps.log.output(`--- ${t.host}`);
    const r = await deps.runner.run(compose.exec(t.target, webService(t.colour), withSecretEnv(opts.command), false), { allowFailure: true });
    if (r.stdout) deps.log.output(r.stdout.replace(/\n$/, ''));
    if (r.stderr.trim()) deps.log.warn(`${t.host}: ${r.stderr.trim()}`);
    if (r.exitCode !== 0) {
      deps.log.error(`${t.host}: exit ${r.exitCode}`);
      exitCode ||= r.exitCode;
    }
  }
  for (const m of missing) deps.log.error(`${m}: ${opts.app} is not deployed there`);
  return { exitCode: exitCode || (missing.length ? 1 : 0) };
}

/** Resolve an alias from app config into what to run: an exec in the live container or a Berth command. */
export function resolveAlias(app: App, alias: string, extra: string[]): { kind: 'exec'; command: string[] } | { kind: 'berth'; argv: string[] } {
  const value = app.config.aliases[alias];
  if (!value) {
    const known = Object.keys(app.config.aliases).join(', ') || 'none';
    throw new StepError('alias', `${app.name} has no alias "${alias}" (aliases: ${known}); add it under aliases: in ${app.file}`);
  }
  if (value.startsWith('berth:')) return { kind: 'berth', argv: [...splitCommand(value.slice('berth:'.length)), ...extra] };
  return { kind: 'exec', command: [...splitCommand(value), ...extra] };
}
