// PURE config checking: raw data (already read by load.ts) in, a validated Project or one
// ConfigError listing every problem out. Nothing here touches the file system.
import { z } from 'zod';
import { ConfigError, type Issue } from '../errors.ts';
import { appSchema, edgeSchema, hostsFileSchema, type App, type Project } from './schema.ts';
import { runRules } from './rules.ts';
import { closest } from './closest.ts';

export interface RawFile {
  /** Path relative to the project root, as shown in messages. */
  file: string;
  data: unknown;
  /** load.ts could not read or parse the file (it reported that already): skip it. */
  unreadable?: boolean;
}

export interface RawApp extends RawFile {
  name: string;
  /** Absolute path of apps/<name>. */
  dir: string;
}

export interface RawProject {
  root: string;
  /** Whether a file or folder exists (load.ts passes the real check; pure tests a fake or nothing). */
  exists?: (path: string, kind: 'file' | 'dir') => boolean;
  hostsFile: RawFile;
  edge: RawFile;
  apps: RawApp[];
}

export const APP_NAME = /^[a-z][a-z0-9_-]*$/;

/**
 * Parse every file with its schema, then run the cross-file rules. Throws one ConfigError with
 * `priorIssues` (from reading) plus every issue found here; returns the Project when there are none.
 */
export function validateProject(raw: RawProject, priorIssues: Issue[] = []): Project {
  const issues: Issue[] = [...priorIssues];

  const hosts = raw.hostsFile.unreadable ? undefined : parseFile(hostsFileSchema, raw.hostsFile, issues);
  const edge = raw.edge.unreadable ? undefined : parseFile(edgeSchema, raw.edge, issues);

  const apps: App[] = [];
  const seen = new Set<string>();
  for (const a of [...raw.apps].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    if (!APP_NAME.test(a.name)) {
      issues.push({
        file: a.file,
        path: '',
        expected: 'an app folder name of lowercase letters, digits, "-" or "_", starting with a letter',
        found: JSON.stringify(a.name),
        hint: `rename apps/${a.name}/`,
      });
    }
    // zen-miner and zen_miner would share Docker names (appProject replaces "_" with "-").
    const dockerName = a.name.replace(/_/g, '-');
    if (seen.has(dockerName)) {
      issues.push({
        file: a.file,
        path: '',
        expected: 'an app name distinct from every other app once "_" reads as "-"',
        found: JSON.stringify(a.name),
        hint: 'rename one of the two app folders',
      });
    }
    seen.add(dockerName);
    if (a.unreadable) continue;
    const config = parseFile(appSchema, a, issues);
    if (config) apps.push({ name: a.name, dir: a.dir, file: a.file, config });
  }

  // Cross-file rules need hosts.json and edge.yml; they run over every app that parsed, so one
  // broken app does not hide a rule violation between two others.
  if (hosts && edge) {
    issues.push(...runRules({ root: raw.root, hosts: hosts.hosts, clusters: hosts.clusters, edge, apps }, { hosts: raw.hostsFile.file, edge: raw.edge.file, exists: raw.exists }));
  }
  if (issues.length > 0) throw new ConfigError(sortByFile(issues));
  return { root: raw.root, hosts: hosts!.hosts, clusters: hosts!.clusters, edge: edge!, apps };
}

/** Group issues by file (stable within a file, so schema issues keep their order before rule issues). */
const sortByFile = (issues: Issue[]) => [...issues].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

/** Parse one file; push its issues and return undefined when it is invalid. */
export function parseFile<S extends z.ZodType>(schema: S, raw: RawFile, issues: Issue[]): z.output<S> | undefined {
  const data = raw.data === undefined || raw.data === null ? {} : raw.data; // an empty file is an empty mapping
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const found: Issue[] = [];
  const suggested = new Set<string>();
  for (const zi of result.error.issues) found.push(...issuesFromZod(schema, raw.file, data, zi, suggested));
  // A misspelt required key ("key_secrets") also makes the real one missing; the did-you-mean says it all.
  issues.push(...found.filter((i) => !(i.found === 'nothing' && suggested.has(i.path))));
  return undefined;
}

// ---------------------------------------------------------------- zod issue → Issue

type ZodIssue = z.core.$ZodIssue;
type Key = PropertyKey;

export function formatPath(path: readonly Key[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else if (!/^[A-Za-z0-9_$-]+$/.test(String(k))) out += `[${JSON.stringify(String(k))}]`;
    else out += out ? `.${String(k)}` : String(k);
  }
  return out;
}

/** "got …": the value as JSON, shortened; "nothing" when the key is absent. */
export function formatFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(data: unknown, path: readonly Key[]): unknown {
  let cur: unknown = data;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<Key, unknown>)[k];
  }
  return cur;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
};

const FORMAT_WORDS: Record<string, string> = {
  url: 'a URL such as "https://example.com"',
  email: 'an e-mail address',
};

function issuesFromZod(schema: z.ZodType, file: string, data: unknown, zi: ZodIssue, suggested: Set<string>): Issue[] {
  const path = zi.path;
  switch (zi.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(schema, path, data);
      return zi.keys.map((key) => {
        const suggestion = closest(key, known);
        if (suggestion) suggested.add(formatPath([...path, suggestion]));
        return {
          file,
          path: formatPath([...path, key]),
          expected: known.length ? 'a known key' : 'no keys here',
          found: `unknown key ${JSON.stringify(key)}`,
          hint: suggestion ? `did you mean ${JSON.stringify(suggestion)}?` : known.length ? `valid keys: ${known.join(', ')}` : undefined,
        };
      });
    }
    case 'invalid_key': {
      const key = String(path[path.length - 1]);
      // `volumes: { ./data: /data }` or `{ /srv/data: /data }`: a bind mount where a named volume goes.
      const bind = path[path.length - 2] === 'volumes' && /^[./~]/.test(key);
      return [
        {
          file,
          path: formatPath(path),
          expected: zi.issues[0]?.message ?? 'a valid key',
          found: `key ${JSON.stringify(key)}`,
          hint: bind ? 'volumes are named Docker volumes (name: container path), not host folders; e.g. data: /data' : undefined,
        },
      ];
    }
    case 'invalid_union': {
      // `registry: { server: …, usernme: … }`: the value's shape picks one alternative (a mapping, not
      // "none"); report that alternative's own issues at their paths instead of "\"none\" or a mapping".
      const fitting = zi.errors.filter((errs) => !errs.some((e) => e.path.length === 0 && (e.code === 'invalid_type' || e.code === 'invalid_value')));
      if (!(zi as { discriminator?: string }).discriminator && fitting.length === 1) {
        return fitting[0]!.flatMap((e) => issuesFromZod(schema, file, data, { ...e, path: [...path, ...e.path] } as ZodIssue, suggested));
      }
    }
    // falls through
    default: {
      const value = valueAt(data, path);
      // `storage: ./data:/rails/storage`: compose's bind-mount syntax where a container path goes.
      const bind = path[path.length - 2] === 'volumes' && typeof value === 'string' && (value.includes(':') || !value.startsWith('/'));
      const hint = bind ? 'write name: /container/path; Berth mounts named volumes, not host folders' : undefined;
      return [{ file, path: formatPath(path), expected: expectedText(zi), found: formatFound(value), ...(hint ? { hint } : {}) }];
    }
  }
}

function expectedText(zi: ZodIssue): string {
  const custom = zi.message && !/^(Invalid|Too (small|big)|Unrecognized)/.test(zi.message);
  switch (zi.code) {
    case 'invalid_type':
      return TYPE_WORDS[zi.expected] ?? zi.expected;
    case 'invalid_value':
      return zi.values.length === 1 ? JSON.stringify(zi.values[0]) : `one of ${zi.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      if (custom) return zi.message;
      if (zi.format === 'starts_with') return `a string starting with ${JSON.stringify((zi as { prefix?: string }).prefix)}`;
      return FORMAT_WORDS[zi.format] ?? `a valid ${zi.format}`;
    case 'invalid_union': {
      const disc = zi as { discriminator?: string; options?: unknown[] };
      if (disc.options) return `one of ${disc.options.map((v) => JSON.stringify(v)).join(', ')}`;
      const alternatives = zi.errors.map((errs) => (errs[0] ? expectedText(errs[0]) : '?'));
      return [...new Set(alternatives)].join(' or ');
    }
    case 'too_small': {
      const min = Number(zi.minimum);
      if (zi.origin === 'array' || zi.origin === 'set') return `at least ${min} item${min === 1 ? '' : 's'}`;
      if (zi.origin === 'string') return min === 1 ? 'a non-empty string' : `a string of at least ${min} characters`;
      return `a number ${zi.inclusive ? '>=' : '>'} ${min}`;
    }
    case 'too_big': {
      const max = Number(zi.maximum);
      if (zi.origin === 'array' || zi.origin === 'set') return `at most ${max} items`;
      if (zi.origin === 'string') return `a string of at most ${max} characters`;
      return `a number ${zi.inclusive ? '<=' : '<'} ${max}`;
    }
    case 'not_multiple_of':
      return `a multiple of ${String(zi.divisor)}`;
    default:
      return zi.message || 'a valid value';
  }
}

// ---------------------------------------------------------------- did you mean

/** The keys a strict object at `path` accepts (walking records, arrays, defaults and unions). */
export function knownKeys(schema: z.ZodType, path: readonly Key[], data: unknown): string[] {
  const keys = new Set<string>();
  const visit = (s: z.core.$ZodType, rest: readonly Key[], value: unknown): void => {
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
        return visit(def.innerType as z.core.$ZodType, rest, value);
      case 'pipe':
        return visit(def.in as z.core.$ZodType, rest, value);
      case 'union': {
        // A discriminated union: only the option the input selects (all of them if none matches).
        const options = def.options as z.core.$ZodType[];
        const disc = def.discriminator as string | undefined;
        const chosen = disc ? options.filter((o) => literalValues(o, disc).includes(valueAt(value, [disc]))) : [];
        for (const o of chosen.length ? chosen : options) visit(o, rest, value);
        return;
      }
      case 'object': {
        const shape = def.shape as Record<string, z.core.$ZodType>;
        if (rest.length === 0) {
          for (const k of Object.keys(shape)) keys.add(k);
          return;
        }
        const [head, ...tail] = rest;
        const child = shape[String(head)];
        if (child) visit(child, tail, valueAt(value, [head!]));
        return;
      }
      case 'record':
        if (rest.length === 0) return;
        return visit(def.valueType as z.core.$ZodType, rest.slice(1), valueAt(value, [rest[0]!]));
      case 'array':
        if (rest.length === 0) return;
        return visit(def.element as z.core.$ZodType, rest.slice(1), valueAt(value, [rest[0]!]));
      default:
        return;
    }
  };
  visit(schema, path, data);
  return [...keys].filter((k) => k !== '$schema');
}

/** The literal values an object option accepts for `key` (its discriminator). */
function literalValues(option: z.core.$ZodType, key: string): unknown[] {
  const def = option._zod.def as unknown as { type: string; shape?: Record<string, z.core.$ZodType> };
  const field = def.type === 'object' ? def.shape?.[key] : undefined;
  const fdef = field?._zod.def as unknown as { type: string; values?: unknown[] } | undefined;
  return fdef?.type === 'literal' ? (fdef.values ?? []) : [];
}
