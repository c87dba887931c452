// What `npm run plan` reports, as data and as text (PURE). Values of env and secrets are never
// part of it: env keys are shown as KEY=…, secrets by name with where their value would come from.
import type { App } from '../config/schema.ts';
import { EDGE_RENDER_DIR, routedDomains } from './app-facts.ts';
import { formatDiff } from './diff.ts';
import { describePlacement } from './placement.ts';
import type { PlannedFile } from './plan-write.ts';
import type { AppRender, EdgeRender } from './types.ts';

export type { ReleaseTagSource as ReleaseSource } from './release-id.ts';
import type { ReleaseTagSource as ReleaseSource } from './release-id.ts';
export type SecretSource = 'env' | 'command' | 'missing';

export interface AppSummary {
  app: string;
  file: string;
  release: string;
  releaseSource: ReleaseSource;
  image: string;
  configHash: string;
  hosts: string[];
  domains: string[];
  tls: string;
  www: string;
  env: string[];
  secrets: { name: string; source: SecretSource }[];
  /** How secret values reach the app's containers (never as container env). */
  secretDelivery?: string;
  volumes: string[];
  accessories: { name: string; image: string; port?: string; backup?: string }[];
  workers: string[];
  litestream?: { databases: string[]; replica: string };
  /** What runs on which host ("h4: web, worker jobs"), when not every process runs on every host. */
  placement?: string[];
}

export interface PlanFileEntry {
  path: string;
  status: PlannedFile['status'];
  /** Changed lines (for changed files). */
  diff?: string[];
}

export interface PlanReport {
  apps: AppSummary[];
  edge?: { configHash: string; secrets: { name: string; source: SecretSource }[] };
  files: PlanFileEntry[];
  /** True when compose/ on disk differs from the render. */
  changed: boolean;
}

export const SECRET_DELIVERY =
  'as files (/run/secrets), exported to the process by a /bin/sh entrypoint wrapper: never in docker inspect; an image without /bin/sh cannot start';

export function summariseApp(app: App, render: AppRender, releaseSource: ReleaseSource, secretSource: (name: string) => SecretSource): AppSummary {
  const c = app.config;
  return {
    app: app.name,
    file: app.file,
    release: render.release,
    releaseSource,
    image: render.image,
    configHash: render.configHash,
    hosts: render.hosts,
    domains: routedDomains(c),
    tls: c.tls.mode === 'acme' ? `acme (${c.tls.resolver})` : c.tls.mode,
    www: c.www,
    env: Object.keys(c.env).sort(),
    secrets: render.secrets.map((name) => ({ name, source: secretSource(name) })),
    ...(render.secrets.length ? { secretDelivery: SECRET_DELIVERY } : {}),
    volumes: Object.keys(c.volumes).sort().map((v) => `${v}:${c.volumes[v]}`),
    accessories: Object.keys(c.accessories)
      .sort()
      .map((name) => {
        const a = c.accessories[name]!;
        return {
          name,
          image: a.image,
          ...(a.port ? { port: a.port } : {}),
          ...(a.backup ? { backup: `${a.backup.schedule}, keep ${a.backup.keep}` } : {}),
        };
      }),
    workers: Object.keys(c.workers).sort(),
    ...(c.litestream ? { litestream: { databases: [...c.litestream.databases], replica: c.litestream.replica.url } } : {}),
    ...(render.placement && !render.placement.uniform ? { placement: describePlacement(render.placement) } : {}),
  };
}

export function buildReport(apps: AppSummary[], edge: { render: EdgeRender; secretSource: (n: string) => SecretSource } | undefined, files: PlannedFile[]): PlanReport {
  return {
    apps,
    ...(edge ? { edge: { configHash: edge.render.configHash, secrets: edge.render.secrets.map((name) => ({ name, source: edge.secretSource(name) })) } } : {}),
    files: files.map((f) => ({
      path: f.path,
      status: f.status,
      ...(f.status === 'changed' ? { diff: formatDiff(f.previous ?? '', f.content ?? '') } : {}),
    })),
    changed: files.some((f) => f.status !== 'unchanged'),
  };
}

const list = (xs: string[]) => (xs.length ? xs.join(', ') : '—');
const MARK: Record<PlannedFile['status'], string> = { added: '+', changed: '~', unchanged: '=', removed: '-' };

export function formatReport(report: PlanReport, opts: { wrote: boolean }): string {
  const lines: string[] = [];
  for (const a of report.apps) {
    lines.push(`${a.app} (${a.file})`);
    const row = (k: string, v: string) => lines.push(`  ${k.padEnd(12)}${v}`);
    row('release', `${a.release} (${a.releaseSource})`);
    row('image', a.image);
    row('hosts', list(a.hosts));
    for (const [i, line] of (a.placement ?? []).entries()) row(i ? '' : 'placement', line);
    row('domains', `${list(a.domains)}${a.domains.length ? ` — tls ${a.tls}, www ${a.www}` : ''}`);
    row('env', list(a.env.map((k) => `${k}=…`)));
    row('secrets', list(a.secrets.map((s) => `${s.name} (${s.source === 'missing' ? 'MISSING' : `from ${s.source}`})`)));
    if (a.secretDelivery) row('', a.secretDelivery);
    row('volumes', list(a.volumes));
    row('accessories', list(a.accessories.map((x) => `${x.name} ${x.image}${x.port ? ` on ${x.port}` : ''}${x.backup ? ` (pg_dump ${x.backup})` : ''}`)));
    row('workers', list(a.workers));
    if (a.litestream) row('litestream', `${a.litestream.databases.length} database(s) → ${a.litestream.replica}`);
    row('config', a.configHash.slice(0, 12));
    lines.push('');
  }
  if (report.edge) {
    lines.push(`edge (${EDGE_RENDER_DIR}/)`);
    lines.push(`  ${'secrets'.padEnd(12)}${list(report.edge.secrets.map((s) => `${s.name} (${s.source === 'missing' ? 'MISSING' : `from ${s.source}`})`))}`);
    lines.push('');
  }
  lines.push(opts.wrote ? 'compose/ (written):' : 'compose/ (not written):');
  for (const f of report.files) {
    lines.push(`  ${MARK[f.status]} ${f.path} ${f.status}`);
    for (const d of f.diff ?? []) lines.push(`      ${d}`);
  }
  const counts = (['added', 'changed', 'removed', 'unchanged'] as const).map((s) => `${report.files.filter((f) => f.status === s).length} ${s}`);
  lines.push('');
  lines.push(`${counts.join(', ')}. ${report.changed ? 'A deploy would ship these changes.' : 'compose/ already matched this render.'} No server was contacted.`);
  return lines.join('\n');
}

