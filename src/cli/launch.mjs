#!/usr/bin/env node
// The `berth` binary (package.json bin) and every npm script: `launch.mjs <command> args…` runs
// scripts/berth.ts, the command table's dispatcher (a scripts/<name>.ts of its own, if one exists,
// runs instead: an entry point that is not in the table yet).
// Start-up is most of a no-op deploy, so the script runs from ONE CommonJS file bundled with
// esbuild, its packages inside (resolving ~400 package files on every start cost ~100 ms), compiled
// through vm.Script with V8's code cache: Node 20 has no module compile cache, and compiling the
// bundle (and the functions a deploy then runs) was a third of the start. The cache is kept per
// command (`deploy` and `version` compile different functions) and written at exit by the first
// successful runs of a build, each adding what it compiled, then left alone. V8 checks a cache against the
// source's LENGTH only, so caches live in the content-addressed build folder they were made from.
// A build is rebuilt when any bundled source changes (size or mtime, and once more when one was
// written during the build; REPO_ROOT is the nearest
// folder with package.json, the same from src/ and dist/). Each build goes into its own
// content-addressed folder dist/scripts/builds/<hash>/ and the file dist/scripts/current names the
// one to use (replaced by rename); old builds are removed once no running process uses them. If
// the bundle cannot be built, tsx runs the sources.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(ROOT, 'dist', 'scripts');
const BUILDS = join(OUT, 'builds');
const CURRENT = join(OUT, 'current');
/** A build no longer current is removed after this long, once no live process has it in use. */
const RETIRED_GRACE_MS = 60_000;
/** Runs of a build (per command) that rewrite the code cache with what they compiled. */
const CACHE_GENERATIONS = 5;
/** An input modified this close to a build's start is not trusted to be what the build read. */
const MTIME_MARGIN_MS = 1000;
const debug = (msg) => process.env.BERTH_DEBUG_LAUNCH && process.stderr.write(`berth: ${msg}\n`);

const argv = process.argv.slice(2);
// A script of its own (not in the command table yet) runs as before; everything else is a command.
const own = argv[0] && /^[a-z][a-z0-9-]*$/.test(argv[0]) && argv[0] !== 'berth' && existsSync(join(ROOT, 'scripts', `${argv[0]}.ts`));
const name = own ? argv[0] : 'berth';
const args = own ? argv.slice(1) : argv;
// The script sees its own arguments, as under tsx.
process.argv = [process.argv[0], join(ROOT, 'scripts', `${name}.ts`), ...args];

const scriptFiles = () => readdirSync(join(ROOT, 'scripts')).filter((f) => f.endsWith('.ts'));

/** The build `current` names, when every input esbuild read for it still has its size and mtime. */
function freshBuild() {
  let dir;
  let m;
  try {
    dir = join(BUILDS, readFileSync(CURRENT, 'utf8').trim());
    m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (!existsSync(join(dir, `${name}.cjs`))) return undefined;
  for (const [file, [size, mtime]] of Object.entries(m.inputs)) {
    let s;
    try {
      s = statSync(join(ROOT, file));
    } catch {
      return undefined;
    }
    if (s.size !== size || s.mtimeMs !== mtime) {
      debug(`${file} changed since the build`);
      return undefined;
    }
  }
  // A script added since the last build.
  return scriptFiles().every((f) => `scripts/${f}` in m.inputs) ? dir : undefined;
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)))
    .sort();
}

/**
 * A script's top-level code (`await berthMain(...)`) becomes the body of its default export:
 * CommonJS has no top-level await. Its imports stay at the top.
 */
const scriptAsFunction = {
  name: 'berth-script-main',
  setup(b) {
    b.onLoad({ filter: /[\\/]scripts[\\/][a-z][a-z0-9-]*\.ts$/ }, (a) => {
      const src = readFileSync(a.path, 'utf8');
      const imports = /^import\s(?:[^'"`;]*?\sfrom\s+)?['"][^'"]+['"];?[ \t]*$/gm;
      const head = src.match(imports) ?? [];
      return { contents: `${head.join('\n')}\nexport default async function berthScript() {\n${src.replace(imports, '')}\n}\n`, loader: 'ts', resolveDir: dirname(a.path) };
    });
  },
};

async function build() {
  const { build: esbuild } = await import('esbuild');
  const entries = scriptFiles().map((f) => join(ROOT, 'scripts', f));
  mkdirSync(BUILDS, { recursive: true });
  const tmp = join(BUILDS, `.tmp-${process.pid}-${Date.now()}`);
  const started = Date.now();
  debug('building the bundle');
  const result = await esbuild({
    entryPoints: entries,
    absWorkingDir: ROOT,
    outdir: tmp,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // The bundler itself and tsx (which loads an app.config.ts) stay packages; the rest is inside.
    external: ['esbuild', 'tsx', 'tsx/*', 'typescript', 'bufferutil', 'utf-8-validate'],
    define: { 'import.meta.url': '__berthImportMetaUrl', 'import.meta.dirname': '__dirname' },
    banner: { js: 'const __berthImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    plugins: [scriptAsFunction],
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = {};
  // Metafile inputs are relative to absWorkingDir (ROOT), as freshBuild() reads them.
  for (const file of Object.keys(result.metafile.inputs)) {
    const s = statSync(join(ROOT, file));
    // A file written while esbuild ran may be in the bundle as it was before: its stat says
    // nothing about what was read, so it is recorded as changed and the next launch rebuilds.
    // File times come from a coarse clock (a tick behind the wall clock), hence the margin.
    inputs[file] = [s.size, s.mtimeMs >= started - MTIME_MARGIN_MS ? -1 : s.mtimeMs];
  }
  // The folder is named for what it holds: two launches building the same sources make one folder.
  const h = createHash('sha256');
  for (const f of filesUnder(tmp)) h.update(`${f}\0`).update(readFileSync(join(tmp, f))).update('\0');
  const id = h.digest('hex').slice(0, 16);
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({ inputs }));
  const dir = join(BUILDS, id);
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // the same build is already there
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ inputs })); // this launch's stat view
  const previous = existsSync(CURRENT) ? readFileSync(CURRENT, 'utf8').trim() : '';
  const pointer = `${CURRENT}.tmp-${process.pid}`;
  writeFileSync(pointer, id);
  renameSync(pointer, CURRENT);
  if (previous && previous !== id && existsSync(join(BUILDS, previous))) writeFileSync(join(BUILDS, previous, '.retired'), String(Date.now()));
  prune(id);
  return dir;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};

/** Remove builds retired for a while that no live process has in use (and stale temp folders). */
function prune(keep) {
  for (const id of readdirSync(BUILDS)) {
    const dir = join(BUILDS, id);
    if (id === keep) continue;
    try {
      if (id.startsWith('.tmp-')) {
        if (Date.now() - statSync(dir).mtimeMs > 10 * 60_000) rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const retired = Number(readFileSync(join(dir, '.retired'), 'utf8'));
      if (!(Date.now() - retired > RETIRED_GRACE_MS)) continue;
      const users = existsSync(join(dir, '.in-use')) ? readdirSync(join(dir, '.in-use')).map(Number) : [];
      if (users.some((pid) => pid !== process.pid && alive(pid))) continue;
      rmSync(dir, { recursive: true, force: true });
    } catch {
      /* not retired (no .retired file), or removed by another launch meanwhile */
    }
  }
}

/** Mark the build as used by this process until it exits, so no prune removes it under us. */
function holdBuild(dir) {
  const mark = join(dir, '.in-use', String(process.pid));
  try {
    mkdirSync(dirname(mark), { recursive: true });
    writeFileSync(mark, '');
    process.on('exit', () => {
      try {
        unlinkSync(mark);
      } catch {
        /* already gone */
      }
    });
  } catch {
    /* a read-only checkout: nothing prunes it either */
  }
}

/** The newest code cache this build has for this command, and its generation (0: none yet). */
function findCache(dir, prefix) {
  let gen = 0;
  for (const f of readdirSync(dir)) {
    const m = f.startsWith(prefix) && /\.g(\d+)\.cache$/.exec(f);
    if (m && Number(m[1]) > gen) gen = Number(m[1]);
  }
  return { gen, file: join(dir, `${prefix}${gen}.cache`) };
}

/** Run the bundle as CommonJS, compiled from V8's code cache when there is one. */
async function runBundle(dir) {
  const bundle = join(dir, `${name}.cjs`);
  const source = readFileSync(bundle, 'utf8');
  const command = /^[a-z][a-z0-9:-]*$/.test(args[0] ?? '') ? args[0].replace(/:/g, '_') : '_';
  const prefix = `${name}.${command}.${process.versions.v8}.g`;
  const cache = findCache(dir, prefix);
  let cachedData;
  try {
    if (cache.gen) cachedData = readFileSync(cache.file);
  } catch {
    /* another launch replaced it meanwhile */
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    cachedData,
    // An app.config.ts / .mjs is imported at run time.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (!cachedData || script.cachedDataRejected || cache.gen < CACHE_GENERATIONS) {
    // At exit, so the functions this run compiled are in the cache too; only after a run that
    // succeeded (a mistyped command or a usage error leaves no cache of its own).
    process.once('exit', (code) => {
      if (code !== 0) return;
      try {
        const compiled = script.createCachedData();
        // Keep the larger one (more functions compiled); the generation advances either way.
        const data = cachedData && !script.cachedDataRejected && compiled.length < cachedData.length ? cachedData : compiled;
        const next = join(dir, `${prefix}${script.cachedDataRejected ? 1 : cache.gen + 1}.cache`);
        writeFileSync(`${next}.tmp-${process.pid}`, data);
        renameSync(`${next}.tmp-${process.pid}`, next);
        if (cache.gen && next !== cache.file) rmSync(cache.file, { force: true });
      } catch (e) {
        debug(`could not write the code cache: ${e?.message ?? e}`);
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dir);
  await module.exports.default();
}

let dir = freshBuild();
if (!dir) {
  try {
    dir = await build();
  } catch (e) {
    debug(`bundling failed, running through tsx: ${e?.message ?? e}`);
  }
}
try {
  if (dir) {
    holdBuild(dir);
    await runBundle(dir);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(join(ROOT, 'scripts', `${name}.ts`)).href);
  }
} catch (e) {
  // The scripts report their own errors; what reaches here failed while loading: one line, no stack.
  process.stderr.write(`berth: could not start ${name}: ${e?.message ?? e}${process.env.BERTH_DEBUG_LAUNCH ? `\n${e?.stack}` : ' (BERTH_DEBUG_LAUNCH=1 shows the stack)'}\n`);
  process.exitCode = 1;
}
