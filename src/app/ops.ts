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
import { appProject, webService } from '../names.ts';
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

export async function status(deps: Deps, opts: { app?: string; certs?: boolean }): Promise<StatusRow[]> {
  const project = await loadProject(deps.root);
  const apps = opts.app ? [findApp(project, opts.app)] : project.apps;
  const rows: StatusRow[] = [];
  const handles = new Map<string, HostHandle>();
  for (const app of apps) {
    for (const hn of hostsOf(project, app)) {
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

async function liveTarget(deps: Deps, appName: string, only?: HostFilter) {
  const project = await loadProject(deps.root);
  const app = findApp(project, appName);
  const hn = filterHosts(app, project.hosts, only)[0];
  if (!hn) throw new StepError('exec', `${appName} has no host`);
  const h = hostHandle(hn, project.hosts[hn]!);
  await ensureContext(deps.runner, h);
  const state = await observeApp(deps, h, app.name);
  if (!state.current) throw new StepError('exec', `${appName} is not deployed on ${hn}`);
  return { app, h, colour: state.current.colour, target: { ...composeTarget(deps, h, app.name, {}), files: [], project: appProject(app.name) } };
}

export async function logs(deps: Deps, opts: { app: string; follow?: boolean; tail?: number; service?: string; only?: HostFilter }) {
  const { target, colour } = await liveTarget(deps, opts.app, opts.only);
  const svc = opts.service ?? webService(colour);
  return deps.runner.run(compose.logs(target, [svc], opts.tail ?? 100, opts.follow), { interactive: true });
}

export async function exec(deps: Deps, opts: { app: string; command: string[]; interactive?: boolean; only?: HostFilter }) {
  const { target, colour } = await liveTarget(deps, opts.app, opts.only);
  return deps.runner.run(compose.exec(target, webService(colour), withSecretEnv(opts.command), !!opts.interactive), { interactive: true, allowFailure: true });
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
