// What a deploy changes on a host compared with the release live there (PURE): the release
// command that will run, env keys (names only, never values), secrets, volumes, domains and routes.
import YAML from 'yaml';

export interface SetDiff {
  added: string[];
  removed: string[];
}

export interface RemoteDiff {
  host: string;
  /** The live release id and colour, or null when nothing is deployed there. */
  live: { release: string; colour: string } | null;
  release: string;
  releaseCommand?: string;
  env: SetDiff & { changed: string[] };
  secrets: SetDiff;
  volumes: SetDiff;
  domains: SetDiff;
  routes: SetDiff;
}

interface Side {
  compose?: string;
  routing?: string;
}

type Svc = { environment?: Record<string, string>; secrets?: (string | { source: string })[]; volumes?: string[] };

function web(compose: string | undefined): Svc {
  if (!compose) return {};
  const doc = YAML.parse(compose) as { services?: Record<string, Svc> };
  return doc?.services?.['web-blue'] ?? {};
}

// Berth's own plumbing keys (wrapper inputs), not the app's configuration.
const isBerthKey = (k: string) => k.startsWith('BERTH_');
// Before secrets were mounted files they were `${NAME}` env references: count those as secrets.
const isSecretRef = (v: string) => /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(v);

function envOf(s: Svc): Map<string, string> {
  return new Map(Object.entries(s.environment ?? {}).filter(([k, v]) => !isBerthKey(k) && !isSecretRef(String(v))).map(([k, v]) => [k, String(v)]));
}

function secretsOf(s: Svc): Set<string> {
  const out = new Set<string>((s.secrets ?? []).map((x) => (typeof x === 'string' ? x : x.source)));
  for (const [k, v] of Object.entries(s.environment ?? {})) if (isSecretRef(String(v))) out.add(k);
  return out;
}

const diffSets = (a: Iterable<string>, b: Iterable<string>): SetDiff => {
  const A = new Set(a);
  const B = new Set(b);
  return { added: [...B].filter((x) => !A.has(x)).sort(), removed: [...A].filter((x) => !B.has(x)).sort() };
};

const domainsOf = (routing?: string) => [...(routing ?? '').matchAll(/Host\(`([^`]+)`\)/g)].map((m) => m[1]!);
const rulesOf = (routing?: string) => [...(routing ?? '').matchAll(/^\s*rule:\s*(.+)$/gm)].map((m) => m[1]!.trim().replace(/^["']|["']$/g, ''));

export function remoteDiff(host: string, live: RemoteDiff['live'], release: string, before: Side, after: Side, releaseCommand?: string): RemoteDiff {
  const [ob, nb] = [web(before.compose), web(after.compose)];
  const [oe, ne] = [envOf(ob), envOf(nb)];
  const env = diffSets(oe.keys(), ne.keys());
  return {
    host,
    live,
    release,
    ...(releaseCommand ? { releaseCommand } : {}),
    env: { ...env, changed: [...ne.keys()].filter((k) => oe.has(k) && oe.get(k) !== ne.get(k)).sort() },
    secrets: diffSets(secretsOf(ob), secretsOf(nb)),
    volumes: diffSets(ob.volumes ?? [], nb.volumes ?? []),
    domains: diffSets(domainsOf(before.routing), domainsOf(after.routing)),
    routes: diffSets(rulesOf(before.routing), rulesOf(after.routing)),
  };
}

const fmt = (d: SetDiff, extra: string[] = []) =>
  [...d.added.map((x) => `+ ${x}`), ...d.removed.map((x) => `- ${x}`), ...extra.map((x) => `~ ${x}`)].join(', ') || 'unchanged';

export function formatRemoteDiff(d: RemoteDiff): string {
  const lines = [
    `${d.host}: ${d.live ? `live ${d.live.release} (${d.live.colour})` : 'nothing deployed yet'} → ${d.release}${d.live?.release === d.release ? ' (already live)' : ''}`,
    `  release cmd  ${d.releaseCommand ? `${d.releaseCommand} (runs once in the new image, before the switch)` : 'none'}`,
    `  env keys     ${fmt(d.env, d.env.changed)}`,
    `  secrets      ${fmt(d.secrets)}`,
    `  volumes      ${fmt(d.volumes)}`,
    `  domains      ${fmt(d.domains)}`,
    `  routes       ${fmt(d.routes)}`,
  ];
  return lines.join('\n');
}
