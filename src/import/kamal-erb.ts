// ERB in a Kamal deploy.yml (PURE). Kamal renders `<%= … %>` in Ruby before reading the YAML; the
// import does not run Ruby, but handles the forms configs use to read the environment:
// `<%= ENV["X"] %>`, `<%= ENV['X'] %>`, `<%= ENV.fetch("X") %>`, `<%= ENV.fetch("X", "default") %>`.
// In an env value (env.clear, an accessory's env) the variable stays one read at deploy time, as in
// Kamal: it becomes a secret reference `${X}` (its value from the environment when deploying, never
// copied into app.yml). Anywhere else (servers, image, proxy host …) Berth needs a value now: the
// operator's environment at import time, else the fetch default; otherwise the import names the line
// and what to do. Any other Ruby is named by its line, with the way out: import `kamal config`'s output.
import type { Issue } from '../errors.ts';

const TOKEN = (i: number) => `__BERTH_ERB_${i}__`;
const TOKEN_RE = /__BERTH_ERB_(\d+)__/g;
/** An env value's read of variable NAME at deploy time, as importKamal receives it. */
export const ENV_READ = (name: string) => `__BERTH_ENV_${name}__`;
export const ENV_READ_RE = /__BERTH_ENV_([A-Z_][A-Z0-9_]*)__/g;

interface ErbUse {
  line: number;
  text: string;
  variable?: string;
  fallback?: string;
}

const FORMS = [
  /^ENV\[\s*(["'])([A-Za-z_][A-Za-z0-9_]*)\1\s*\]$/,
  /^ENV\.fetch\(\s*(["'])([A-Za-z_][A-Za-z0-9_]*)\1\s*\)$/,
  /^ENV\.fetch\(\s*(["'])([A-Za-z_][A-Za-z0-9_]*)\1\s*,\s*(["'])([^"'\\]*)\3\s*\)$/,
];

/** Replace each `<%= … %>` with a token (YAML-safe), remembering what it read; `<% … %>` code is a problem at its line. */
export function tokeniseErb(text: string, file: string): { text: string; uses: ErbUse[]; issues: Issue[] } {
  const uses: ErbUse[] = [];
  const issues: Issue[] = [];
  const lines = text.split('\n');
  const out = lines.map((line, n) =>
    // A YAML comment line: whatever Ruby renders there is never read.
    /^\s*#/.test(line) ? line : line.replace(/<%(=|-)?\s*([\s\S]*?)\s*-?%>/g, (whole, eq: string | undefined, expr: string) => {
      const form = eq === '=' ? FORMS.map((re) => re.exec(expr)).find(Boolean) : undefined;
      if (!form) {
        if (!/^#/.test(expr)) {
          issues.push({
            file, path: '', line: n + 1, expected: 'ERB the import can read: <%= ENV["X"] %> or <%= ENV.fetch("X", "default") %>', found: JSON.stringify(whole),
            hint: 'Kamal renders this Ruby; import its rendered config instead: kamal config > config/deploy.rendered.yml, then npm run import -- kamal config/deploy.rendered.yml',
          });
        }
        return '';
      }
      uses.push({ line: n + 1, text: whole, variable: form[2], fallback: form[4] });
      return TOKEN(uses.length - 1);
    }),
  );
  return { text: out.join('\n'), uses, issues };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A key path is an env value Kamal hands the container: env.clear.X, env.X, accessories.a.env(.clear).X. */
const isEnvValue = (path: string[]) =>
  (path[0] === 'env' && (path.length === 2 || (path.length === 3 && path[1] === 'clear'))) ||
  (path[0] === 'accessories' && path[2] === 'env' && (path.length === 4 || (path.length === 5 && path[3] === 'clear')));

export interface ErbResolution {
  value: unknown;
  /** What each ERB became (for the import's notes). */
  notes: { key: string; text: string; status: 'mapped' | 'action' }[];
  issues: Issue[];
}

/** Put values back where tokens are: env reads stay reads (ENV_READ), others take `env` now or their default. */
export function resolveErb(parsed: unknown, uses: ErbUse[], env: Readonly<Record<string, string | undefined>>, file: string): ErbResolution {
  const notes: ErbResolution['notes'] = [];
  const issues: Issue[] = [];
  const walk = (v: unknown, path: string[]): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, String(i)]));
    if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...path, k])]));
    if (typeof v !== 'string' || !v.includes('__BERTH_ERB_')) return v;
    const key = path.join('.');
    const envValue = isEnvValue(path);
    const out = v.replace(TOKEN_RE, (_, i: string) => {
      const u = uses[Number(i)]!;
      if (envValue) {
        notes.push({ key, status: 'mapped', text: `line ${u.line} ${u.text}: read from the environment at deploy time, as Kamal does (a secret reference \${${u.variable}}, never copied here)` });
        return ENV_READ(u.variable!);
      }
      const now = env[u.variable!];
      if (now !== undefined && now !== '') {
        notes.push({ key, status: 'action', text: `line ${u.line} ${u.text} → ${JSON.stringify(now)} (${u.variable} in your environment now: the import is a snapshot; change app.yml/hosts.json when it changes)` });
        return now;
      }
      if (u.fallback !== undefined) {
        notes.push({ key, status: 'mapped', text: `line ${u.line} ${u.text} → its default ${JSON.stringify(u.fallback)} (${u.variable} is not set now)` });
        return u.fallback;
      }
      issues.push({
        file, path: key, line: u.line, expected: `a value for ${u.text} (${u.variable} in the environment)`, found: 'nothing',
        hint: `export ${u.variable}=… and rerun the import, or import the rendered config: kamal config > config/deploy.rendered.yml`,
      });
      return '';
    });
    // A whole value that was one number (a port) stays a number.
    return /^\d+$/.test(out) && /^__BERTH_ERB_\d+__$/.test(v) && !envValue ? Number(out) : out;
  };
  return { value: walk(parsed, []), notes, issues };
}
