// Build every sandbox/images/<name>/ (build.sh or Dockerfile), base images first, skipping unchanged inputs.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { SANDBOX_CACHE_DIR, SANDBOX_HASH_LABEL, SANDBOX_STATE_DIR } from './config.ts';
import { run, step } from './proc.ts';
import { SANDBOX_DIR } from './paths.ts';

export const IMAGES_DIR = join(SANDBOX_DIR, 'images');
const STAMP_DIR = join(SANDBOX_STATE_DIR, 'images');
/** Built first, in this order; everything else after, ordered by FROM dependencies. */
const FIRST = ['debian', 'base'];

export interface ImageDir {
  name: string;
  dir: string;
  kind: 'build.sh' | 'Dockerfile';
  /** Tags declared with `# image: name:tag` comment lines. */
  tags: string[];
  /** Images named in FROM lines (Dockerfile) or `# from:` comments (build.sh). */
  from: string[];
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === '.git') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

export async function hashDir(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const f of await listFiles(dir)) {
    const st = await stat(f);
    h.update(`${relative(dir, f)}\0${st.mode & 0o111 ? 'x' : '-'}\0`);
    h.update(await readFile(f));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

export function parseImageDecl(text: string): { tags: string[]; from: string[] } {
  const tags: string[] = [];
  const from: string[] = [];
  for (const line of text.split('\n').slice(0, 40)) {
    const m = /^#\s*image:\s*(\S+)/.exec(line);
    if (m) tags.push(m[1]!);
    const f = /^(?:FROM\s+(?:--\S+\s+)*|#\s*from:\s*)(\S+)/i.exec(line);
    if (f && f[1] !== 'scratch') from.push(f[1]!);
  }
  return { tags, from };
}

export async function discoverImages(): Promise<ImageDir[]> {
  if (!existsSync(IMAGES_DIR)) return [];
  const found: ImageDir[] = [];
  for (const e of (await readdir(IMAGES_DIR, { withFileTypes: true })).filter((d) => d.isDirectory())) {
    const dir = join(IMAGES_DIR, e.name);
    const kind = existsSync(join(dir, 'build.sh')) ? 'build.sh' : existsSync(join(dir, 'Dockerfile')) ? 'Dockerfile' : null;
    if (!kind) continue;
    const { tags, from } = parseImageDecl(await readFile(join(dir, kind), 'utf8'));
    found.push({ name: e.name, dir, kind, tags, from });
  }
  return orderImages(found);
}

/** FIRST in order, then a dependency order (an image after the dirs producing its FROM images), ties by name. */
export function orderImages(dirs: ImageDir[]): ImageDir[] {
  const producer = new Map<string, string>();
  for (const d of dirs) for (const t of d.tags) producer.set(t, d.name);
  const byName = new Map(dirs.map((d) => [d.name, d]));
  const out: ImageDir[] = [];
  const seen = new Set<string>();
  const visit = (d: ImageDir, stack: Set<string>): void => {
    if (seen.has(d.name) || stack.has(d.name)) return;
    stack.add(d.name);
    for (const f of d.from) {
      const p = producer.get(f);
      if (p && p !== d.name) visit(byName.get(p)!, stack);
    }
    seen.add(d.name);
    out.push(d);
  };
  for (const n of FIRST) if (byName.has(n)) visit(byName.get(n)!, new Set());
  for (const d of [...dirs].sort((a, b) => a.name.localeCompare(b.name))) visit(d, new Set());
  return out;
}

async function imageLabels(tags: string[]): Promise<(string | null)[]> {
  if (tags.length === 0) return [];
  const r = await run(['docker', 'image', 'inspect', '--format', `{{index .Config.Labels "${SANDBOX_HASH_LABEL}"}}`, ...tags], {
    allowFail: true,
  });
  if (r.code !== 0) return tags.map(() => null);
  return r.stdout.trim().split('\n').map((s) => (s === '<no value>' ? '' : s));
}

export interface BuildResult {
  name: string;
  tags: string[];
  hash: string;
  built: boolean;
}

/** An image's input = its own files + the inputs of the sandbox images it is built FROM. */
export async function inputHash(img: ImageDir, depHashes: Map<string, string>): Promise<string> {
  let hash = await hashDir(img.dir);
  const deps = img.from.map((f) => depHashes.get(f)).filter(Boolean);
  if (deps.length) hash = createHash('sha256').update([hash, ...deps].join('\n')).digest('hex').slice(0, 16);
  for (const t of img.tags) depHashes.set(t, hash);
  return hash;
}

export async function buildImage(img: ImageDir, depHashes: Map<string, string>, force = false): Promise<BuildResult> {
  const hash = await inputHash(img, depHashes);
  const stampFile = join(STAMP_DIR, `${img.name}.hash`);
  const stamp = existsSync(stampFile) ? (await readFile(stampFile, 'utf8')).trim() : '';
  const labels = await imageLabels(img.tags);
  const present = labels.every((l) => l !== null);
  const labelled = img.kind === 'Dockerfile' ? labels.every((l) => l === hash) : true;
  if (!force && stamp === hash && present && labelled) return { name: img.name, tags: img.tags, hash, built: false };

  const env = {
    ...process.env,
    BERTH_CACHE: SANDBOX_CACHE_DIR,
    BERTH_INPUT_HASH: hash,
    IMAGE_LABELS: `berth.sandbox=true ${SANDBOX_HASH_LABEL}=${hash}`,
  };
  if (img.kind === 'build.sh') {
    await run(['bash', join(img.dir, 'build.sh')], { cwd: img.dir, env, echo: !!process.env.BERTH_SANDBOX_VERBOSE });
  } else {
    if (img.tags.length === 0) throw new Error(`${img.dir}/Dockerfile: first line must be "# image: name:tag"`);
    await run(
      [
        'docker', 'build', '--network', 'host',
        '--label', 'berth.sandbox=true', '--label', `${SANDBOX_HASH_LABEL}=${hash}`,
        ...img.tags.flatMap((t) => ['-t', t]),
        img.dir,
      ],
      { env, echo: !!process.env.BERTH_SANDBOX_VERBOSE },
    );
  }
  const after = await imageLabels(img.tags);
  if (after.some((l) => l === null)) throw new Error(`${img.dir}: build finished but not all declared images exist: ${img.tags.join(', ')}`);
  await mkdir(STAMP_DIR, { recursive: true });
  await writeFile(stampFile, `${hash}\n`);
  return { name: img.name, tags: img.tags, hash, built: true };
}

/** PURE: the named image dirs plus every dir producing an image they are built FROM, recursively. */
export function withDependencies(names: readonly string[], dirs: readonly ImageDir[]): string[] {
  const producer = new Map<string, string>();
  for (const d of dirs) for (const t of d.tags) producer.set(t, d.name);
  const byName = new Map(dirs.map((d) => [d.name, d]));
  const out = new Set<string>();
  const visit = (n: string) => {
    if (out.has(n) || !byName.has(n)) return;
    out.add(n);
    for (const f of byName.get(n)!.from) {
      const p = producer.get(f);
      if (p) visit(p);
    }
  };
  names.forEach(visit);
  return [...out];
}

/** only: build just these dirs; rebuild: names to build even when up to date (or true for all). */
export async function buildAllImages(opts: { only?: string[]; rebuild?: string[] | boolean } = {}): Promise<BuildResult[]> {
  const imgs = await discoverImages();
  const depHashes = new Map<string, string>();
  const results: BuildResult[] = [];
  for (const img of imgs) {
    if (opts.only && !opts.only.includes(img.name)) {
      // Still account for its hash so dependants see a stable input.
      await inputHash(img, depHashes);
      continue;
    }
    const label = `image ${img.name} (${img.tags.join(', ') || img.kind})`;
    const force = opts.rebuild === true || (Array.isArray(opts.rebuild) && opts.rebuild.includes(img.name));
    const r = await step(label, () => buildImage(img, depHashes, force));
    console.log(`[sandbox]   ${r.built ? 'built' : 'up to date'} ${r.hash}`);
    results.push(r);
  }
  if (results.some((r) => r.built)) {
    // Rebuilt sandbox images leave their old versions dangling.
    await run(['docker', 'image', 'prune', '-f', '--filter', 'label=berth.sandbox=true'], { allowFail: true });
  }
  return results;
}
