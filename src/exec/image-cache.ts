// The operator machine's image cache for shipping over SSH: an image's config and layer blobs,
// content-addressed (each verified against its sha256 on the way in), plus a small index per image
// ID, so each host gets its missing layers from files (from any offset: a cut transfer resumes).
// The blobs come out of the local engine by a `docker push` to Berth's own push sink on 127.0.0.1
// (push-sink.ts: the engine compresses and sends only layers the sink lacks), or, where the engine
// cannot reach this machine's loopback (Docker Desktop's VM, rootless Docker), by `docker save`.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import tarFs from 'tar-fs';
import type { Cmd } from '../docker/command.ts';
import { read, write } from '../docker/command.ts';
import type { Runner } from '../docker/runner.ts';
import { isBlobName, type LocalImage } from '../plan/image-ship.ts';
import { startPushSink } from './push-sink.ts';
import { byText } from '../text-order.ts';

/** `$BERTH_IMAGE_CACHE`, else `$XDG_CACHE_HOME/berth/images` (~/.cache/berth/images). */
export const imageCacheDir = (env: NodeJS.ProcessEnv) =>
  env.BERTH_IMAGE_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'berth', 'images');

/** How many images (most recently shipped first) the cache keeps; blobs no kept image uses go. */
export const CACHE_KEEP_IMAGES = 10;

export const localImageCmd = {
  /** The image's ID and its size unpacked (what the host's disk needs for its layers) in the local engine. */
  inspect: (ref: string): Cmd => read(['docker', 'image', 'inspect', ref, '--format', '{{.Id}} {{.Size}}']),
  save: (ref: string): Cmd => read(['docker', 'save', ref]),
  // Pushing to the push sink: a second tag on the image for the push, removed after it (never the image).
  tag: (ref: string, target: string): Cmd => write(['docker', 'tag', ref, target]),
  push: (target: string): Cmd => write(['docker', 'push', '--quiet', target]),
  untag: (target: string): Cmd => write(['docker', 'image', 'rm', '--no-prune', target]),
};

interface CacheIndex extends LocalImage {
  refs: string[];
  usedAt: string;
}

const OCI_BLOB = /^blobs\/sha256\/([0-9a-f]{64})$/;
const hex = (id: string) => id.replace(/^sha256:/, '');
const blobPath = (dir: string, blob: string) => join(dir, 'blobs', blob);
const indexPath = (dir: string, id: string) => join(dir, 'images', `${hex(id)}.json`);

export function blobStream(dir: string, blob: string, from: number): ReadStream {
  return createReadStream(blobPath(dir, blob), { start: from });
}

async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then((s) => s.size, () => undefined);
}

/** The cached index of image `id` when every blob it names is there, whole. */
async function cachedImage(dir: string, id: string): Promise<CacheIndex | undefined> {
  const text = await readFile(indexPath(dir, id), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  let index: CacheIndex;
  try {
    index = JSON.parse(text) as CacheIndex;
  } catch {
    return undefined;
  }
  if (index.id !== id || !isBlobName(index.config) || (await sizeOf(blobPath(dir, index.config))) !== index.configSize) return undefined;
  for (const l of index.layers) if (!isBlobName(l.blob) || (await sizeOf(blobPath(dir, l.blob))) !== l.size) return undefined;
  return index;
}

/**
 * The image `ref` (whose ID is `id`) of the local engine as cached blobs: pushed to the push sink
 * when the engine reaches it, else saved. Either way only blobs the cache lacks are written.
 */
export async function exportImage(
  runner: Runner, dir: string, ref: string, id: string,
  opts: { size?: number; how?: 'push' | 'save'; info?: (msg: string) => void; warn?: (msg: string) => void } = {},
): Promise<LocalImage> {
  const hit = await cachedImage(dir, id);
  if (hit) return touch(dir, hit, ref);
  await mkdir(join(dir, 'blobs'), { recursive: true, mode: 0o700 });
  await mkdir(join(dir, 'images'), { recursive: true, mode: 0o700 });
  const size = opts.size ?? 0;
  let image: Omit<CacheIndex, 'refs' | 'usedAt' | 'unpackedSize'> | undefined;
  if (opts.how !== 'save') {
    try {
      image = await exportByPush(runner, dir, ref, id);
    } catch (e) {
      if (opts.how === 'push') throw e;
      if (e instanceof SinkUnreachable) opts.info?.(`the local engine cannot reach Berth's push sink on 127.0.0.1 (Docker Desktop or rootless?): saving ${ref} whole instead`);
      else opts.warn?.(`pushing ${ref} to Berth's local push sink failed (${(e as Error).message.split('\n')[0]}); saving the whole image instead`);
    }
  }
  image ??= await exportBySave(runner, dir, ref, id);
  opts.info?.(`${ref}: layers taken from the local engine by ${image.compressed ? 'a push to the local push sink (only layers it lacked)' : 'docker save (the whole image)'}`);
  const index: CacheIndex = { ...image, unpackedSize: size, refs: [ref], usedAt: new Date().toISOString() };
  await writeIndex(dir, index);
  await pruneCache(dir);
  return strip(index);
}

class SinkUnreachable extends Error {}

const pending = new Set<Promise<void>>();
/** Wait for the push tags' removal started by exports (never left on the local engine). */
export async function exportsSettled(): Promise<void> {
  await Promise.all([...pending]);
  pending.clear();
}

/** The layers as the engine pushes them (compressed; only those the sink lacks are read and sent). */
async function exportByPush(runner: Runner, dir: string, ref: string, id: string): Promise<Omit<CacheIndex, 'refs' | 'usedAt' | 'unpackedSize'>> {
  const sink = await startPushSink(dir);
  // One repository per image name: the engine asks with HEAD for layers it pushed there before.
  const repo = `berth/${createHash('sha256').update(ref.replace(/:[^:/]+$/, '')).digest('hex').slice(0, 16)}`;
  const tag = hex(id).slice(0, 32);
  const target = `${sink.address}/${repo}:${tag}`;
  try {
    await runner.run(localImageCmd.tag(ref, target));
    try {
      const r = await runner.run(localImageCmd.push(target), { allowFailure: true, timeoutMs: 30 * 60_000 });
      if (r.exitCode !== 0) {
        if (!sink.reached()) throw new SinkUnreachable(r.stderr);
        throw new Error((r.stderr || r.stdout).trim().split('\n').pop());
      }
    } finally {
      // The extra tag goes beside the rest of the shipment (awaited before the process moves on: settled()).
      pending.add(runner.run(localImageCmd.untag(target), { allowFailure: true }).then(() => undefined, () => undefined));
    }
    const pushed = sink.manifests.get(`${repo}:${tag}`);
    if (!pushed || pushed.config !== hex(id)) throw new Error(`the push of ${ref} did not arrive as image ${id}`);
    const config = JSON.parse(await readFile(blobPath(dir, pushed.config), 'utf8')) as { rootfs?: { diff_ids?: string[] } };
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== pushed.layers.length) throw new Error(`the push of ${ref} has ${pushed.layers.length} layers for ${diffIds.length} diff IDs`);
    const now = new Date();
    for (const b of [pushed.config, ...pushed.layers.map((l) => l.blob)]) await utimes(blobPath(dir, b), now, now).catch(() => {});
    return {
      id,
      config: pushed.config,
      configSize: (await sizeOf(blobPath(dir, pushed.config)))!,
      layers: pushed.layers.map((l, i) => ({ diffId: diffIds[i]!, blob: l.blob, size: l.size })),
      compressed: true,
    };
  } finally {
    await sink.close();
  }
}

/** The whole image through `docker save` (uncompressed layer tars; blobs the cache has are skipped). */
async function exportBySave(runner: Runner, dir: string, ref: string, id: string): Promise<Omit<CacheIndex, 'refs' | 'usedAt' | 'unpackedSize'>> {
  const tmp = join(dir, `tmp-${randomBytes(6).toString('hex')}`);
  await mkdir(tmp, { mode: 0o700 });
  try {
    const digests = new Map<string, string>();
    const skipped = new Set<string>();
    const cachedBlobs = new Set(await readdir(join(dir, 'blobs')).catch(() => [] as string[]));
    const extract = tarFs.extract(tmp, {
      // An OCI-layout blob the cache has is not written again (docker save still streams it).
      ignore: (_path: string, header?: { name: string }) => {
        const m = OCI_BLOB.exec(header?.name ?? '');
        if (m && cachedBlobs.has(m[1]!)) {
          skipped.add(header!.name);
          return true;
        }
        return false;
      },
      mapStream: (stream: NodeJS.ReadableStream, header: { name: string }) => stream.pipe(hashing((d) => digests.set(header.name, d))),
    } as unknown as tarFs.ExtractOptions);
    const written = new Promise<void>((res, rej) => {
      extract.on('finish', () => res());
      extract.on('error', rej);
    });
    await Promise.all([runner.run(localImageCmd.save(ref), { stdoutStream: extract as unknown as Writable }), written]);

    // manifest.json: which entry is the config and which the layers (bottom first). Each is
    // identified by the sha256 of its content, computed on the way in.
    const manifest = JSON.parse(await readFile(join(tmp, 'manifest.json'), 'utf8')) as { Config: string; Layers: string[] }[];
    const entry = async (name: string): Promise<{ digest: string; file?: string }> => {
      const clean = name.replace(/^\.?\/+/, '');
      if (skipped.has(clean)) return { digest: OCI_BLOB.exec(clean)![1]! };
      const real = relative(tmp, await realpath(join(tmp, clean))); // legacy archives link duplicate layers
      const digest = digests.get(real);
      if (!digest) throw new Error(`docker save of ${ref}: ${name} is not in the archive`);
      const named = OCI_BLOB.exec(real)?.[1];
      if (named && named !== digest) throw new Error(`docker save of ${ref}: ${real} has digest ${digest} (corrupt archive)`);
      return { digest, file: join(tmp, real) };
    };
    let item: { Config: string; Layers: string[] } | undefined;
    for (const m of manifest) if ((await entry(m.Config)).digest === hex(id)) item = m;
    if (!item) throw new Error(`docker save of ${ref} holds no image ${id} (the tag moved while it was saved? rerun)`);

    // Move the new blobs into the cache (same file system: one rename each).
    const keepBlob = async (name: string): Promise<string> => {
      const e = await entry(name);
      if (e.file && (await sizeOf(blobPath(dir, e.digest))) === undefined) {
        await rename(e.file, blobPath(dir, e.digest));
        const now = new Date();
        await utimes(blobPath(dir, e.digest), now, now); // the archive's mtime is 1970 or the build's; pruning reads this one
      }
      return e.digest;
    };
    await keepBlob(item.Config);
    const configText = await readFile(blobPath(dir, hex(id)), 'utf8');
    const diffIds = (JSON.parse(configText) as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? [];
    if (diffIds.length !== item.Layers.length) throw new Error(`docker save of ${ref}: ${item.Layers.length} layers for ${diffIds.length} diff IDs`);
    const layers = [];
    for (let i = 0; i < diffIds.length; i++) {
      const blob = await keepBlob(item.Layers[i]!);
      layers.push({ diffId: diffIds[i]!, blob, size: (await sizeOf(blobPath(dir, blob)))! });
    }
    return { id, config: hex(id), configSize: Buffer.byteLength(configText), layers, compressed: false };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

const strip = (i: CacheIndex): LocalImage => ({ id: i.id, config: i.config, configSize: i.configSize, layers: i.layers, compressed: !!i.compressed, unpackedSize: i.unpackedSize ?? 0 });

async function touch(dir: string, index: CacheIndex, ref: string): Promise<LocalImage> {
  await writeIndex(dir, { ...index, refs: [...new Set([ref, ...index.refs])].slice(0, 8), usedAt: new Date().toISOString() });
  return strip(index);
}

async function writeIndex(dir: string, index: CacheIndex) {
  const tmp = `${indexPath(dir, index.id)}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, JSON.stringify(index, null, 2) + '\n');
  await rename(tmp, indexPath(dir, index.id));
}

/** Keep the CACHE_KEEP_IMAGES most recently used images and the blobs they use. */
async function pruneCache(dir: string) {
  const indexes: CacheIndex[] = [];
  for (const f of await readdir(join(dir, 'images')).catch(() => [] as string[])) {
    if (!f.endsWith('.json')) continue;
    const text = await readFile(join(dir, 'images', f), 'utf8').catch(() => '');
    try {
      indexes.push(JSON.parse(text) as CacheIndex);
    } catch {
      await rm(join(dir, 'images', f), { force: true });
    }
  }
  indexes.sort((a, b) => byText(b.usedAt, a.usedAt));
  const keep = indexes.slice(0, CACHE_KEEP_IMAGES);
  for (const i of indexes.slice(CACHE_KEEP_IMAGES)) await rm(indexPath(dir, i.id), { force: true });
  const used = new Set(keep.flatMap((i) => [i.config, ...i.layers.map((l) => l.blob)]));
  // A blob moved in within the hour may belong to another deploy's image whose index is not written yet.
  const recent = Date.now() - 3600_000;
  for (const b of await readdir(join(dir, 'blobs')).catch(() => [] as string[])) {
    if (used.has(b)) continue;
    const st = await stat(blobPath(dir, b)).catch(() => undefined);
    if (st && st.mtimeMs < recent) await rm(blobPath(dir, b), { force: true });
  }
}

/** A pass-through that reports the sha256 of what went through it. */
function hashing(done: (hex: string) => void): Transform {
  const h = createHash('sha256');
  return new Transform({
    transform(chunk, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      done(h.digest('hex'));
      cb();
    },
  });
}
