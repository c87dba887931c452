// lego's DNS providers (the DNS-01 code inside Traefik) as data: each provider's code and the
// environment variables it reads. Generated from lego's own providers/dns/*/*.toml by
// `npm run lego:providers` into lego-dns-providers.json (committed, with the lego version the
// pinned Traefik embeds); PURE parsing here, the git reads are in src/cli/lego-providers.ts.
import table from './lego-dns-providers.json' with { type: 'json' };

export interface LegoProvider {
  name: string;
  /** Variables lego documents as credentials (some are alternatives or aliases of each other). */
  credentials: string[];
  /** Optional settings: timeouts, TTL, API URLs… */
  additional: string[];
}

export interface LegoTable {
  lego: string;
  traefik: string;
  source: string;
  providers: Record<string, LegoProvider>;
}

export const LEGO: LegoTable = table as LegoTable;

/** Every variable of a provider (credentials and settings). */
export const providerVariables = (p: LegoProvider) => [...p.credentials, ...p.additional];

/** The provider's variable ending in `suffix` ("_PROPAGATION_TIMEOUT"), if it has exactly one. */
export function providerVariable(p: LegoProvider, suffix: string): string | undefined {
  const hits = providerVariables(p).filter((v) => v.endsWith(suffix));
  return hits.length === 1 ? hits[0] : undefined;
}

/** One provider's toml file → its code and variables (undefined when it names no code). */
export function parseProviderToml(text: string): { code: string; provider: LegoProvider } | undefined {
  const lines = text.split('\n');
  const str = (key: string) => {
    const m = lines.map((l) => new RegExp(`^${key}\\s*=\\s*"([^"]*)"`).exec(l)).find(Boolean);
    return m?.[1];
  };
  const code = str('Code');
  if (!code) return undefined;
  const section = (name: string) => {
    const out: string[] = [];
    let inside = false;
    for (const l of lines) {
      const t = l.trim();
      if (t.startsWith('[')) inside = t === `[${name}]`;
      else if (inside) {
        const m = /^([A-Z][A-Z0-9_]*)\s*=/.exec(t);
        if (m) out.push(m[1]!);
      }
    }
    return out;
  };
  let credentials = section('Configuration.Credentials');
  let additional = section('Configuration.Additional');
  if (!credentials.length && !additional.length) {
    // A few providers (exec, manual) document their variables only in a Markdown table.
    additional = [...text.matchAll(/^\|\s*`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]!);
    credentials = [];
  }
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  return { code, provider: { name: str('Name') ?? code, credentials: uniq(credentials), additional: uniq(additional) } };
}

/** The committed JSON: one provider per line, so a lego upgrade reviews as a short diff. */
export function formatLegoTable(t: LegoTable): string {
  const codes = Object.keys(t.providers).sort();
  const rows = codes.map((c, i) => `    ${JSON.stringify(c)}: ${JSON.stringify(t.providers[c])}${i < codes.length - 1 ? ',' : ''}`);
  return `{\n  "lego": ${JSON.stringify(t.lego)},\n  "traefik": ${JSON.stringify(t.traefik)},\n  "source": ${JSON.stringify(t.source)},\n  "providers": {\n${rows.join('\n')}\n  }\n}\n`;
}
