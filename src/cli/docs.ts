// `berth docs [<key>]` (like `kamal docs`): the reference of one config key — its type, default,
// allowed values and description — read from the JSON Schemas generated from the zod schemas, so
// it is never out of date. Keys are dotted paths in app.yml, shared/edge.yml or hosts.json.
import { renderJsonSchemas } from '../config/json-schema.ts';
import { UnknownNameError } from '../errors.ts';
import { createLogger } from '../log/logger.ts';
import type { CommandArgs } from './spec.ts';

/** The part of JSON Schema the generated files use. */
export interface SchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: SchemaNode | boolean;
  propertyNames?: SchemaNode;
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
}

export interface SchemaFile {
  /** How keys of this file are written: app, edge, hosts. */
  prefix: 'app' | 'edge' | 'hosts';
  file: string;
  root: SchemaNode;
}

/** The three generated schemas (app.yml, shared/edge.yml, hosts.json). */
export function loadSchemas(): SchemaFile[] {
  const out = renderJsonSchemas();
  const get = (f: string) => JSON.parse(out[f]!) as SchemaNode;
  return [
    { prefix: 'app', file: 'apps/<app>/app.yml', root: get('app.schema.json') },
    { prefix: 'edge', file: 'shared/edge.yml', root: get('edge.schema.json') },
    { prefix: 'hosts', file: 'hosts.json', root: get('hosts.schema.json') },
  ];
}

const variants = (n: SchemaNode) => n.oneOf ?? n.anyOf ?? [];

/** The children of a node a dotted path can step into (properties, across union variants). */
export function childKeys(n: SchemaNode): string[] {
  const keys = new Set<string>(Object.keys(n.properties ?? {}).filter((k) => k !== '$schema'));
  for (const v of variants(n)) for (const k of childKeys(v)) keys.add(k);
  if (n.items) for (const k of childKeys(n.items)) keys.add(k);
  return [...keys];
}

/** One step down: a property, a property of a union variant, a named entry (accessories.<name>), an item's property. */
function step(n: SchemaNode, key: string): SchemaNode | undefined {
  if (n.properties?.[key]) return n.properties[key];
  for (const v of variants(n)) {
    const hit = step(v, key);
    if (hit) return hit;
  }
  if (typeof n.additionalProperties === 'object') return n.additionalProperties;
  if (n.items) return step(n.items, key);
  return undefined;
}

export interface DocHit {
  file: string;
  /** The key as written in that file (hosts.<name>.ssh). */
  path: string;
  node: SchemaNode;
}

/** PURE: find a key. "edge.acme.email", "app.healthcheck", "healthcheck", "host.ssh" (any host). */
export function findKey(schemas: readonly SchemaFile[], key: string): DocHit {
  let parts = key.split('.').filter(Boolean);
  let files = schemas;
  if (parts[0] === 'host') parts = ['hosts', '<name>', ...parts.slice(1)];
  const pick = schemas.find((s) => s.prefix === parts[0]);
  // "hosts" alone is both hosts.json and app.yml's hosts list: a prefix only with more after it.
  if (pick && (parts.length > 1 || pick.prefix !== 'hosts')) {
    files = [pick];
    if (pick.prefix !== 'hosts') parts = parts.slice(1);
  }
  for (const s of files) {
    let node: SchemaNode | undefined = s.root;
    const path: string[] = [];
    for (const p of parts) {
      node = node && step(node, p);
      path.push(p);
      if (!node) break;
    }
    if (node) return { file: s.file, path: path.join('.'), node };
  }
  // Name what exists where the path stopped, so the next try is right.
  const s = files[0]!;
  let node: SchemaNode = s.root;
  const done: string[] = [];
  for (const p of parts) {
    const next = step(node, p);
    if (!next) break;
    node = next;
    done.push(p);
  }
  const here = done.length ? `${s.prefix}.${done.join('.')}` : `${s.file}`;
  throw new UnknownNameError(`no config key ${JSON.stringify(key)}: ${here} has ${childKeys(node).join(', ') || 'no keys'} (berth docs lists every file's keys)`);
}

const typeOf = (n: SchemaNode): string => {
  if (n.const !== undefined) return JSON.stringify(n.const);
  if (n.enum) return n.enum.map((e) => JSON.stringify(e)).join(' | ');
  const vs = variants(n);
  if (vs.length) return [...new Set(vs.map(typeOf))].join(' | ');
  if (n.type === 'array') return `list of ${n.items ? typeOf(n.items) : 'values'}`;
  if (n.type === 'object' && typeof n.additionalProperties === 'object' && !n.properties) return `map of name → ${typeOf(n.additionalProperties)}`;
  return Array.isArray(n.type) ? n.type.join(' | ') : (n.type ?? 'any');
};

const firstLine = (s?: string) => (s ?? '').split('\n')[0]!;

/** PURE: the reference text of one key. */
export function formatDoc(hit: DocHit): string {
  const n = hit.node;
  const lines = [`${hit.file}: ${hit.path || '(the whole file)'}`, ''];
  if (n.description) lines.push(n.description, '');
  lines.push(`type:     ${typeOf(n)}`);
  if (n.default !== undefined) lines.push(`default:  ${JSON.stringify(n.default)}`);
  if (n.pattern) lines.push(`pattern:  ${n.pattern}`);
  if (n.minimum !== undefined || n.maximum !== undefined) lines.push(`range:    ${n.minimum ?? '…'} – ${n.maximum !== undefined && n.maximum < 1e15 ? n.maximum : '…'}`);
  if (n.propertyNames?.pattern) lines.push(`names:    ${n.propertyNames.pattern}`);
  const vs = variants(n).filter((v) => v.properties);
  if (vs.length) {
    lines.push('', 'one of:');
    for (const v of vs) {
      const tag = Object.entries(v.properties ?? {}).find(([, p]) => p.const !== undefined);
      const keys = Object.keys(v.properties ?? {}).map((k) => (v.required?.includes(k) ? `${k}*` : k));
      lines.push(`  ${tag ? `${tag[0]}: ${JSON.stringify(tag[1].const)}` : typeOf(v)} — keys ${keys.join(', ')}${tag?.[1].description ? ` (${firstLine(tag[1].description)})` : ''}`);
    }
  }
  const object = n.properties ? n : typeof n.additionalProperties === 'object' ? n.additionalProperties : n.items?.properties ? n.items : undefined;
  if (object?.properties) {
    const entries = Object.entries(object.properties).filter(([k]) => k !== '$schema');
    const w = Math.max(...entries.map(([k]) => k.length + 1));
    lines.push('', object === n ? 'keys (* required):' : `keys of each entry (* required):`);
    for (const [k, p] of entries) {
      const name = `${k}${object.required?.includes(k) ? '*' : ''}`;
      lines.push(`  ${name.padEnd(w)}  ${typeOf(p).slice(0, 40).padEnd(16)}${p.default !== undefined ? `  default ${JSON.stringify(p.default).slice(0, 40)}` : ''}${p.description ? `  ${firstLine(p.description).slice(0, 100)}` : ''}`);
    }
    lines.push('', `berth docs ${hit.file === 'hosts.json' ? 'host' : hit.file.startsWith('shared') ? 'edge' : 'app'}.${hit.path ? `${hit.path.replace(/^hosts\.[^.]+\.?/, '')}${hit.path.replace(/^hosts\.[^.]+\.?/, '') ? '.' : ''}` : ''}<key> for one of them.`);
  }
  return lines.join('\n');
}

/** PURE: `berth docs` without a key: each file and its top-level keys. */
export function formatIndex(schemas: readonly SchemaFile[]): string {
  const lines: string[] = [];
  for (const s of schemas) {
    const root = s.prefix === 'hosts' ? (s.root.properties?.hosts?.additionalProperties as SchemaNode) : s.root;
    lines.push(`${s.file}${s.prefix === 'hosts' ? ' (each host under "hosts")' : ''}: berth docs ${s.prefix === 'hosts' ? 'host' : s.prefix}.<key>`);
    const entries = Object.entries(root.properties ?? {}).filter(([k]) => k !== '$schema');
    const w = Math.max(...entries.map(([k]) => k.length));
    for (const [k, p] of entries) lines.push(`  ${k.padEnd(w)}  ${firstLine(p.description) || typeOf(p)}`.trimEnd());
    lines.push('');
  }
  return lines.join('\n').trimEnd();
}

/** Every documented key (completion): app keys bare, edge.* and host.* prefixed, two levels deep. */
export function docKeys(schemas: readonly SchemaFile[] = loadSchemas()): string[] {
  const out: string[] = [];
  const walk = (n: SchemaNode, prefix: string, depth: number) => {
    for (const k of childKeys(n)) {
      const path = prefix ? `${prefix}.${k}` : k;
      out.push(path);
      const next = step(n, k);
      if (next && depth < 2) walk(next, path, depth + 1);
    }
  };
  for (const s of schemas) {
    if (s.prefix === 'hosts') walk(s.root.properties?.hosts?.additionalProperties as SchemaNode, 'host', 1);
    else walk(s.root, s.prefix === 'app' ? '' : 'edge', s.prefix === 'app' ? 0 : 1);
  }
  return out;
}

export async function docsCli({ values, positionals }: CommandArgs) {
  const log = createLogger({ json: !!values.json });
  const schemas = loadSchemas();
  const key = positionals[0];
  if (key === undefined) return void log.output(values.json ? JSON.stringify(Object.fromEntries(schemas.map((s) => [s.file, s.root])), null, 2) : formatIndex(schemas));
  const hit = findKey(schemas, key);
  log.output(values.json ? JSON.stringify({ file: hit.file, key: hit.path, schema: hit.node }, null, 2) : formatDoc(hit));
}
