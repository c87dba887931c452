// The ONLY module that reads config files. It turns files into raw data (reporting files it cannot
// read or parse, with line numbers) and hands everything to the pure validateProject.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmiconfig, type Loader } from 'cosmiconfig';
import { LineCounter, parseDocument } from 'yaml';
import type { Issue } from '../errors.ts';
import type { Project } from './schema.ts';
import { validateProject, type RawApp, type RawFile } from './validate.ts';
import { destinationAppName, destinationFiles, mergeOverride } from './destinations.ts';

export const HOSTS_FILE = 'hosts.json';
export const EDGE_DIR = 'shared';
export const EDGE_SEARCH_PLACES = ['edge.yml', 'edge.yaml', 'edge.json'];
export const APPS_DIR = 'apps';
export const APP_SEARCH_PLACES = ['app.yml', 'app.yaml', 'app.json', 'app.config.ts', 'app.config.js', 'app.config.mjs'];

/** A file that exists but cannot be parsed; carries the position for the message. */
class SyntaxIssue extends Error {
  constructor(
    readonly expected: string,
    message: string,
    readonly line?: number,
    readonly column?: number,
    readonly path = '',
    readonly hint?: string,
  ) {
    super(message);
  }
}

// YAML through the `yaml` package (not cosmiconfig's js-yaml) for line/column positions and
// duplicate-key errors. YAML 1.2 core schema, so `on:` stays a string key.
const loadYaml: Loader = (_filepath, content) => {
  const lineCounter = new LineCounter();
  const doc = parseDocument(content, { prettyErrors: false, uniqueKeys: true, lineCounter });
  const err = doc.errors[0];
  if (err) {
    const pos = lineCounter.linePos(err.pos[0]);
    throw new SyntaxIssue('valid YAML', firstLine(err.message), pos.line, pos.col);
  }
  return doc.toJS();
};

const loadJson: Loader = (_filepath, content) => parseJson(content);

// Code configs (app.config.ts/js/mjs) are imported; a .ts one needs tsx, registered on first use.
let tsRegistered = false;

const loadModule: Loader = async (filepath) => {
  // The CLI runs as bundled JavaScript (src/cli/launch.mjs): TypeScript configs need tsx's loader.
  if (filepath.endsWith('.ts') && !tsRegistered) {
    (await import('tsx/esm/api')).register();
    tsRegistered = true;
  }
  const mod = (await import(pathToFileURL(filepath).href)) as { default?: unknown };
  return mod.default;
};

const LOADERS = { '.yml': loadYaml, '.yaml': loadYaml, '.json': loadJson, '.ts': loadModule, '.js': loadModule, '.mjs': loadModule };

function parseJson(content: string): unknown {
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    if (m) {
      const before = content.slice(0, Number(m[1]));
      const line = before.split('\n').length;
      const column = Number(m[1]) - before.lastIndexOf('\n');
      throw new SyntaxIssue('valid JSON', firstLine(msg.replace(/ in JSON at position \d+.*/, '')), line, column);
    }
    throw new SyntaxIssue('valid JSON', firstLine(msg));
  }
  // JSON.parse keeps the last of two equal keys: the first would be ignored without a word.
  const dup = findDuplicateKey(content);
  if (dup) {
    throw new SyntaxIssue(
      'each key once',
      `duplicate key ${JSON.stringify(dup.key)}`,
      dup.line,
      dup.column,
      dup.path,
      `it is already set on line ${dup.firstLine}; delete one (JSON would silently keep only the last)`,
    );
  }
  return data;
}

/**
 * The first key that appears twice in one JSON object, with its key path and positions. Runs on
 * text JSON.parse accepted, so the scan only has to track strings, objects and arrays.
 */
export function findDuplicateKey(text: string): { key: string; path: string; line: number; column: number; firstLine: number } | undefined {
  interface Frame { keys: Map<string, number> | undefined; name: string | number | undefined; index: number }
  const stack: Frame[] = [];
  let line = 1;
  let lineStart = 0;
  let pendingKey: string | undefined;
  const pathOf = (extra: string) => {
    let out = '';
    for (const f of stack.slice(1)) out += typeof f.name === 'number' ? `[${f.name}]` : out ? `.${f.name}` : String(f.name);
    return extra ? (out ? `${out}.${extra}` : extra) : out;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') {
      line++;
      lineStart = i + 1;
    } else if (ch === '"') {
      const start = i;
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const str = JSON.parse(text.slice(start, j + 1)) as string;
      i = j;
      let k = j + 1;
      while (/\s/.test(text[k] ?? '')) k++;
      const top = stack[stack.length - 1];
      if (text[k] === ':' && top?.keys) {
        const first = top.keys.get(str);
        if (first !== undefined) return { key: str, path: pathOf(str), line, column: start - lineStart + 1, firstLine: first };
        top.keys.set(str, line);
        pendingKey = str;
      }
    } else if (ch === '{' || ch === '[') {
      const top = stack[stack.length - 1];
      const name = top ? (top.keys ? pendingKey : top.index) : undefined;
      stack.push({ keys: ch === '{' ? new Map() : undefined, name, index: 0 });
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      const top = stack[stack.length - 1];
      if (top && !top.keys) top.index++;
    }
  }
  return undefined;
}

const firstLine = (s: string) => s.split('\n')[0]!.trim();

/** Path relative to root with forward slashes, as shown in messages. */
const rel = (root: string, p: string) => relative(root, p).split(sep).join('/');

export interface LoadOptions {
  /** Environment (BERTH_HOSTS_FILE); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Read hosts.json, shared/edge.yml and every apps/<name>/ config, then validate them together.
 * Throws one ConfigError listing every problem in every file.
 */
export async function loadProject(root: string, options: LoadOptions = {}): Promise<Project> {
  root = resolve(root);
  const env = options.env ?? process.env;
  const issues: Issue[] = [];

  const hostsFile = readHostsFile(root, env.BERTH_HOSTS_FILE || HOSTS_FILE, issues);
  const edge = await searchOne(root, join(root, EDGE_DIR), EDGE_SEARCH_PLACES, 'berth-edge', issues);

  const apps: RawApp[] = [];
  const appsDir = join(root, APPS_DIR);
  const names = existsSync(appsDir)
    ? readdirSync(appsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
        .map((d) => d.name)
        .sort()
    : [];
  for (const name of names) {
    const dir = join(appsDir, name);
    const raw = await searchOne(root, dir, APP_SEARCH_PLACES, 'berth-app', issues);
    apps.push({ ...raw, name, dir });
    // Destinations: app.<destination>.yml overrides, each a second app <name>-<destination>.
    for (const d of destinationFiles(readdirSync(dir))) {
      const over = await searchOne(root, dir, [d.file], 'berth-app', issues);
      if (raw.unreadable || over.unreadable) continue;
      apps.push({ name: destinationAppName(name, d.destination), dir, file: over.file, data: mergeOverride(raw.data, over.data) });
    }
  }

  return validateProject({ root, hostsFile, edge, apps, exists: pathExists }, issues);
}

/** Whether a file or folder exists on this machine (config rules check the files config names). */
export function pathExists(path: string, kind: 'file' | 'dir'): boolean {
  try {
    const st = statSync(path.startsWith('~/') ? join(homedir(), path.slice(2)) : path);
    return kind === 'dir' ? st.isDirectory() : st.isFile();
  } catch {
    return false;
  }
}

function readHostsFile(root: string, name: string, issues: Issue[]): RawFile {
  const path = isAbsolute(name) ? name : join(root, name);
  const file = rel(root, path);
  if (!existsSync(path)) {
    issues.push({ file, path: '', expected: 'a hosts file listing the servers', found: 'nothing', hint: 'create it, or point BERTH_HOSTS_FILE at one' });
    return { file, data: undefined, unreadable: true };
  }
  try {
    const content = readFileSync(path, 'utf8');
    return { file, data: content.trim() ? parseJson(content) : {} };
  } catch (e) {
    issues.push(syntaxIssue(file, e));
    return { file, data: undefined, unreadable: true };
  }
}

/**
 * Find the one config file in `dir` (never searching parent directories) and load it.
 * Reports: no file, more than one candidate, or a file that does not parse.
 */
async function searchOne(root: string, dir: string, places: string[], moduleName: string, issues: Issue[]): Promise<RawFile> {
  const present = existsSync(dir) && statSync(dir).isDirectory() ? places.filter((p) => existsSync(join(dir, p))) : [];
  const fallback = `${rel(root, dir) || '.'}/`;
  if (present.length === 0) {
    issues.push({ file: fallback, path: '', expected: `one of ${places.join(', ')}`, found: 'nothing' });
    return { file: fallback, data: undefined, unreadable: true };
  }
  const file = rel(root, join(dir, present[0]!));
  if (present.length > 1) {
    issues.push({
      file,
      path: '',
      expected: 'exactly one config file in the folder',
      found: present.join(', '),
      hint: 'delete all but one',
    });
    return { file, data: undefined, unreadable: true };
  }
  // searchStrategy "none": look in `dir` only. (stopDir would switch cosmiconfig to its "global"
  // strategy, which also reads ~/.config/<moduleName>/ — config from outside the project.)
  const explorer = cosmiconfig(moduleName, { searchPlaces: places, searchStrategy: 'none', loaders: LOADERS, cache: false });
  try {
    const result = await explorer.search(dir);
    if (!result) return { file, data: {} }; // empty file: an empty mapping (the schema says what is missing)
    return { file: rel(root, result.filepath), data: result.config };
  } catch (e) {
    issues.push(syntaxIssue(file, e));
    return { file, data: undefined, unreadable: true };
  }
}

function syntaxIssue(file: string, e: unknown): Issue {
  if (e instanceof SyntaxIssue) {
    if (e.path) return { file, path: e.path, expected: e.expected, found: e.message, hint: e.hint, line: e.line, column: e.column };
    return { file, path: '', expected: e.expected, found: `a syntax error (${e.message})`, line: e.line, column: e.column };
  }
  return { file, path: '', expected: 'a config file that loads', found: `an error: ${firstLine((e as Error)?.message ?? String(e))}` };
}
