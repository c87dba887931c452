// Every npm script starts here: `node src/cli/launch.mjs <script> args…` runs scripts/<script>.ts.
// Loading ~150 TypeScript modules through tsx on every command cost ~0.8 s (a no-op deploy was
// mostly start-up), so the scripts are bundled once with esbuild (packages stay external) into
// dist/scripts/ and rebuilt when any bundled source file changes (REPO_ROOT is the nearest folder
// with package.json, the same from src/ and dist/). If the bundle cannot be built, the script runs
// through tsx as before.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(ROOT, 'dist', 'scripts');
const MANIFEST = join(OUT, 'manifest.json');

const [name, ...args] = process.argv.slice(2);
if (!name || !/^[a-z][a-z0-9-]*$/.test(name) || !existsSync(join(ROOT, 'scripts', `${name}.ts`))) {
  process.stderr.write(`berth: no script ${JSON.stringify(name ?? '')} in scripts/ (usage: node src/cli/launch.mjs <script> [args…])\n`);
  process.exit(2);
}
// The script sees its own arguments, as under tsx.
process.argv = [process.argv[0], join(ROOT, 'scripts', `${name}.ts`), ...args];

const scriptFiles = () => readdirSync(join(ROOT, 'scripts')).filter((f) => f.endsWith('.ts'));

/** Fresh when every input esbuild read for the last build still has its size and mtime. */
function fresh() {
  let m;
  try {
    m = JSON.parse(readFileSync(MANIFEST, 'utf8'));
  } catch {
    return false;
  }
  if (!existsSync(join(OUT, `${name}.mjs`))) return false;
  for (const [file, [size, mtime]] of Object.entries(m.inputs)) {
    let s;
    try {
      s = statSync(join(ROOT, file));
    } catch {
      return false;
    }
    if (s.size !== size || s.mtimeMs !== mtime) return false;
  }
  // A script added since the last build.
  return scriptFiles().every((f) => `scripts/${f}` in m.inputs);
}

async function build() {
  const { build: esbuild } = await import('esbuild');
  const entries = scriptFiles().map((f) => join(ROOT, 'scripts', f));
  // Build into a private directory, then swap it in: a concurrent launch never sees half a build.
  const tmp = `${OUT}.tmp-${process.pid}`;
  const result = await esbuild({
    entryPoints: entries,
    absWorkingDir: ROOT,
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = {};
  // Metafile inputs are relative to absWorkingDir (ROOT), as fresh() reads them.
  for (const file of Object.keys(result.metafile.inputs)) {
    const s = statSync(join(ROOT, file));
    inputs[file] = [s.size, s.mtimeMs];
  }
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({ inputs }));
  mkdirSync(dirname(OUT), { recursive: true });
  const old = `${OUT}.old-${process.pid}`;
  try {
    renameSync(OUT, old);
  } catch {
    /* no previous build, or another launch moved it */
  }
  try {
    renameSync(tmp, OUT);
  } catch {
    /* another launch swapped its own (equal) build in first: use that one */
  }
  for (const dir of [old, tmp]) rmSync(dir, { recursive: true, force: true });
}

let entry = join(OUT, `${name}.mjs`);
if (!fresh()) {
  try {
    await build();
  } catch (e) {
    if (process.env.BERTH_DEBUG_LAUNCH) process.stderr.write(`berth: bundling failed, running through tsx: ${e?.message ?? e}\n`);
    const { register } = await import('tsx/esm/api');
    register();
    entry = join(ROOT, 'scripts', `${name}.ts`);
  }
}
try {
  await import(pathToFileURL(entry).href);
} catch (e) {
  // The scripts report their own errors; what reaches here failed while loading: one line, no stack.
  process.stderr.write(`berth: could not start ${name}: ${e?.message ?? e}${process.env.BERTH_DEBUG_LAUNCH ? `\n${e?.stack}` : ' (BERTH_DEBUG_LAUNCH=1 shows the stack)'}\n`);
  process.exitCode = 1;
}
