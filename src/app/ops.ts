// Day-two operations: status (every app on every host), logs, exec and config aliases.
import { connect } from 'node:tls';
import { loadProject } from '../config/load.ts';
import { selectHosts } from '../config/rules.ts';
import type { App, Project } from '../config/schema.ts';
import { compose } from '../docker/argv.ts';
import { StepError } from '../errors.ts';
import { filterHosts, type HostFilter } from '../config/host-filter.ts';
import type { AppState } from '../exec/state.ts';
import { withSecretEnv } from '../plan/secret-env.ts';
import { appProject, type Colour, webService } from '../names.ts';
import { composeTarget, observeApp } from './deploy.ts';
import { splitCommand } from '../docker/command.ts';
import { findApp } from './app-context.ts';
import { type CertHealth, type CertObservation, evaluateCertHealth } from '../plan/cert-health.ts';
import type { Deps } from './deps.ts';
import { ensureContext, type HostHandle, hostHandle } from './host.ts';

export const hostsOf = (project: Project, app: App) => selectHosts(app, project.hosts);

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

export function summarise(state: AppState): { release: string; colour: string; health: string; previous?: string } {
  if (!state.current) return { release: '-', colour: '-', health: 'not deployed' };
  const c = state.containers.find((x) => x.service === webService(state.current!.colour));
  const health = !c ? 'missing' : c.state !== 'running' ? c.state : (c.health ?? 'running');
  return { release: state.current.release, colour: state.current.colour, health, previous: state.current.previous?.release };
}

export async function status(deps: Deps, opts: { app?: string; certs?: boolean; host?: string }): Promise<StatusRow[]> {
  const project = await loadProject(deps.root);
  const apps = opts.app ? [findApp(project, opts.app)] : project.apps;
  const rows: StatusRow[] = [];
  const handles = new Map<string, HostHandle>();
  for (const app of apps) {
    const names = opts.host ? hostsOf(project, app).filter((n) => n === opts.host) : hostsOf(project, app);
    for (const hn of names) {
      let h = handles.get(hn);
      if (!h) {
        h = hostHandle(hn, project.hosts[hn]!);
        await ensureContext(deps.runner, h);
        handles.set(hn, h);
      }
      let s: ReturnType<typeof summarise>;
      try {
        s = summarise(await observeApp(deps, h, app.name));
      } catch (e) {
        s = { release: '?', colour: '?', health: `unreachable: ${(e as Error).message.split('\n')[0]}` };
      }
      const certificate: CertObservation[] = [];
      if (opts.certs !== false && app.config.tls.mode !== 'none') {
        for (const d of app.config.domains) {
          // A wildcard is read through one name under it (SNI cannot carry "*").
          const sni = d.startsWith('*.') ? `berth-status.${d.slice(2)}` : d;
          certificate.push({ host: hn, domain: d, ...(await peerCertificate(project.hosts[hn]!.public_ip ?? h.ssh.address, project.edge.entrypoints.https, sni)) });
        }
      }
      rows.push({ host: hn, app: app.name, domains: app.config.domains, certificate: certificate as CertHealth[], ...s });
    }
  }
  // Health is judged across hosts (one domain, different certificates), then put back per row.
  const health = evaluateCertHealth(rows.flatMap((r) => r.certificate), deps.now());
  let i = 0;
  for (const r of rows) r.certificate = r.certificate.map(() => health[i++]!);
  return rows;
}

/** A row is red when its app is not healthy or one of its certificates is red. */
export const statusRed = (r: StatusRow) => (r.health !== 'healthy' && r.health !== 'running') || r.certificate.some((c) => c.state === 'red');

export function formatStatus(rows: StatusRow[]): string {
  const header = ['HOST', 'APP', 'RELEASE', 'COLOUR', 'HEALTH', 'DOMAINS', 'CERT EXPIRES', 'CERT'];
  const data = rows.map((r) => [
    r.host, r.app, r.release, r.colour, r.health, r.domains.join(',') || '-',
    r.certificate.map((c) => (c.expires ? c.expires.slice(0, 10) : c.error ? `error: ${c.error}` : '-')).join(',') || '-',
    r.certificate.map((c) => (c.state === 'ok' ? 'ok' : `RED ${c.domain}: ${c.reasons.join('; ')}`)).join(', ') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...data.map((d) => d[i]!.length)));
  return [header, ...data].map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** The app's hosts, or the one named with --host (which must be one of them). */
export function selectOpsHosts(project: Project, app: App, host?: string): string[] {
  const all = hostsOf(project, app);
  if (!host) return all;
  if (!all.includes(host)) throw new StepError('host', `${app.name} does not run on "${host}" (its hosts: ${all.join(', ') || 'none'}); see hosts:/roles: in ${app.file}`);
  return [host];
}

interface LiveTarget {
  host: string;
  colour: Colour;
  target: ReturnType<typeof composeTarget>;
}

/** The live colour on each selected host; a host where the app is not deployed is an error for that host. */
async function liveTargets(deps: Deps, appName: string, host?: string, only?: HostFilter): Promise<{ live: LiveTarget[]; missing: string[] }> {
  const project = await loadProject(deps.root);
  const app = findApp(project, appName);
  // --host names one host; --hosts/--roles narrow the app's hosts (both: the host must pass the filter).
  const names = host ? selectOpsHosts(project, app, host).filter((n) => filterHosts(app, project.hosts, only).includes(n)) : filterHosts(app, project.hosts, only);
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

/**
 * Logs of the live colour on every host of the app (or the one named with --host). One host:
 * streamed as compose prints them. Several: each line prefixed with its host; following several
 * hosts at once needs a terminal per host, so --follow then asks for --host.
 */
export async function logs(deps: Deps, opts: { app: string; follow?: boolean; tail?: number; service?: string; host?: string; only?: HostFilter }): Promise<number> {
  const { live, missing } = await liveTargets(deps, opts.app, opts.host, opts.only);
  if (live.length === 1 && !missing.length) {
    const t = live[0]!;
    return (await deps.runner.run(compose.logs(t.target, [opts.service ?? webService(t.colour)], opts.tail ?? 100, opts.follow), { interactive: true })).exitCode;
  }
  if (opts.follow) throw new StepError('logs', `${opts.app} runs on ${[...live.map((t) => t.host), ...missing].join(', ')}: follow one with --host <name>`);
  for (const t of live) {
    const r = await deps.runner.run(compose.logs(t.target, [opts.service ?? webService(t.colour)], opts.tail ?? 100), { allowFailure: true });
    deps.log.output(prefixLines(t.host, r.stdout + r.stderr));
  }
  for (const m of missing) deps.log.error(`${m}: ${opts.app} is not deployed there`);
  return missing.length ? 1 : 0;
}

/**
 * Run a command in the live container on every host of the app (or the one named with --host).
 * One host: its terminal and exit code as they are. Several: one after another, each under a
 * `--- <host>` header, non-interactive; the exit code is the first non-zero one.
 */
export async function exec(deps: Deps, opts: { app: string; command: string[]; interactive?: boolean; host?: string; only?: HostFilter }): Promise<{ exitCode: number }> {
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
