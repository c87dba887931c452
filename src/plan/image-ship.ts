// PURE: what shipping an image to a host over SSH must send (src/app/ship-image.ts does it).
// Docker identifies a layer by its chain ID (the diff IDs of the layer and every layer below it),
// and `docker load` skips reading a layer whose chain ID its layer store already holds (moby
// image/tarexport/load.go), so an archive with the manifest, the config and only the missing
// layers' tars loads on a host that has the rest. Layers are staged on the host first (appended to,
// so a cut transfer resumes where it stopped) and loaded from there in one `docker load`.
import { createHash } from 'node:crypto';

/** One layer of the image as saved here (docker save): its diff ID and the blob that carries it. */
export interface LocalLayer {
  /** sha256:… from the image config's rootfs.diff_ids. */
  diffId: string;
  /** Hex digest of the blob (its file name in the local cache and in the host's staging folder). */
  blob: string;
  size: number;
}

export interface LocalImage {
  /** sha256:<hex of the config>: what `docker image inspect` calls the image ID. */
  id: string;
  /** Hex digest of the config blob (the image ID without "sha256:"). */
  config: string;
  configSize: number;
  layers: LocalLayer[];
  /** The layer blobs are compressed (as pushed) rather than plain tars (as saved): not compressed again on the wire. */
  compressed: boolean;
  /** The engine's size of the whole image unpacked (docker image inspect .Size). */
  unpackedSize: number;
}

export interface HostDisk {
  /** Which folder: Docker's root (layers and docker load's temporary copy) or Berth's staging folder. */
  use: 'docker' | 'staging';
  path: string;
  /** The file system (df's first column): two uses on one file system add up. */
  fs: string;
  available: number;
}

/** What one SSH round trip learned about a host (parseHostImages). */
export interface HostImages {
  /** The image ID the reference points to on the host now, if any. */
  refId?: string;
  /** The image (by ID) is on the host, tagged or not (a load that finished after its connection dropped). */
  hasId: boolean;
  /** Every image's RootFS.Layers (diff IDs, bottom first). */
  layerLists: string[][];
  /** Staged blob files (hex → bytes so far) from an earlier, interrupted transfer. */
  staged: Record<string, number>;
  disks: HostDisk[];
  /** `tar --version`'s first line (the staging step needs GNU tar's --to-command). */
  tar: string;
}

export interface BlobSend {
  blob: string;
  /** Bytes of the blob the host already has staged: the transfer starts there. */
  from: number;
  size: number;
}

export type ShipPlan =
  | { kind: 'present'; reason: string }
  | { kind: 'tag'; reason: string }
  | {
      kind: 'send';
      /** Layers the host has (a prefix of the image's layers, by chain ID). */
      layersPresent: number;
      /** Blobs to send, each from the offset already staged (config first, then layers bottom up). */
      sends: BlobSend[];
      /** Raw (uncompressed) bytes still to send. */
      bytes: number;
      /** Bytes already staged by an earlier, cut transfer (not sent again). */
      resumed: number;
      /** Staged files to drop first (bigger than the blob: not a prefix of it). */
      discard: string[];
      /** Blob names `docker load` reads from the staging folder, with their sizes (checked before loading). */
      load: { blob: string; size: number }[];
      /** manifest.json of the docker-archive loaded on the host (no RepoTags: the tag comes after verification). */
      manifest: string;
    }
  | { kind: 'refuse'; reason: string };

const HEX64 = /^[0-9a-f]{64}$/;
export const isBlobName = (s: string) => HEX64.test(s);

/** Chain IDs of a layer list: chain[0] = diff[0], chain[i] = sha256(chain[i-1] + " " + diff[i]). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

/** How many of `diffIds` (bottom first) the host's layer store holds: the longest prefix some image has. */
export function layersPresent(diffIds: string[], layerLists: string[][]): number {
  const have = new Set(layerLists.flatMap((l) => chainIds(l)));
  const chain = chainIds(diffIds);
  let n = 0;
  while (n < chain.length && have.has(chain[n]!)) n++;
  return n;
}

/** The docker-archive manifest naming the staged files (config and every layer, present ones included: docker load skips those). */
export function shipManifest(image: LocalImage): string {
  return JSON.stringify([{ Config: image.config, RepoTags: null, Layers: image.layers.map((l) => l.blob) }]);
}

/**
 * What the missing layers take unpacked: plain tars about their own size; compressed blobs the
 * engine's unpacked size of the image, in proportion to the missing blobs' share of all blob bytes.
 */
export function unpackedEstimate(image: LocalImage, present: number): number {
  const missing = image.layers.slice(present).reduce((s, l) => s + l.size, 0);
  if (!image.compressed) return missing;
  const all = image.layers.reduce((s, l) => s + l.size, 0);
  return Math.max(missing, all ? Math.ceil((image.unpackedSize * missing) / all) : 0);
}
/** Head room left free on a file system after the transfer and the load. */
export const DISK_MARGIN = (need: number) => Math.max(64 * 2 ** 20, Math.ceil(need * 0.05));

export function planShip(image: LocalImage, host: HostImages): ShipPlan {
  if (host.refId === image.id) return { kind: 'present', reason: `the host has ${shortId(image.id)}` };
  if (host.hasId) return { kind: 'tag', reason: `the host has ${shortId(image.id)}, not under this tag (a load that outlived its connection, a removed tag): tagging it` };
  if (!/GNU tar/.test(host.tar)) {
    return { kind: 'refuse', reason: `the host's tar is not GNU tar (${host.tar.trim() || 'no tar'}); shipping an image needs GNU tar's --to-command (apt-get install tar)` };
  }
  const present = layersPresent(image.layers.map((l) => l.diffId), host.layerLists);
  const blobs = [{ blob: image.config, size: image.configSize }, ...image.layers.slice(present).map((l) => ({ blob: l.blob, size: l.size }))];
  // One blob can carry two layers (an empty layer twice): stage it once.
  const load = [...new Map(blobs.map((b) => [b.blob, b])).values()];
  const sends: BlobSend[] = [];
  const discard: string[] = [];
  let resumed = 0;
  for (const b of load) {
    const staged = host.staged[b.blob] ?? 0;
    if (staged > b.size) discard.push(b.blob);
    const from = staged > b.size ? 0 : staged;
    resumed += from;
    if (from < b.size) sends.push({ blob: b.blob, from, size: b.size });
  }
  const bytes = sends.reduce((s, b) => s + b.size - b.from, 0);
  const loadBytes = load.reduce((s, b) => s + b.size, 0);
  const refusal = diskRefusal(host.disks, bytes, loadBytes, unpackedEstimate(image, present));
  if (refusal) return { kind: 'refuse', reason: refusal };
  return { kind: 'send', layersPresent: present, sends, bytes, resumed, discard, load, manifest: shipManifest(image) };
}

/**
 * Why the host's disks cannot take the transfer (staging) plus the load — docker load's temporary
 * copy of the archive and the unpacked layers — or undefined when they can.
 */
export function diskRefusal(disks: HostDisk[], stageBytes: number, loadBytes: number, unpackedBytes = loadBytes): string | undefined {
  const docker = disks.find((d) => d.use === 'docker');
  const staging = disks.find((d) => d.use === 'staging');
  if (!docker || !staging) return undefined; // df said nothing: docker load reports a full disk itself
  const needs = new Map<string, { disk: HostDisk; bytes: number; paths: string[] }>();
  const add = (d: HostDisk, bytes: number) => {
    const n = needs.get(d.fs) ?? { disk: d, bytes: 0, paths: [] };
    n.bytes += bytes;
    if (!n.paths.includes(d.path)) n.paths.push(d.path);
    needs.set(d.fs, n);
  };
  add(staging, stageBytes);
  add(docker, loadBytes + unpackedBytes);
  for (const n of needs.values()) {
    const total = n.bytes + DISK_MARGIN(n.bytes);
    if (total > n.disk.available) {
      return `${formatBytes(n.disk.available)} free on ${n.paths.join(' and ')} (${n.disk.fs}), the image needs ${formatBytes(total)} ` +
        `(${formatBytes(stageBytes)} to stage, ${formatBytes(loadBytes)} for docker load's copy, ${formatBytes(unpackedBytes)} unpacked, and a margin); nothing was sent. ` +
        'Free space on the host (docker image prune, old releases with npm run prune) and rerun';
    }
  }
  return undefined;
}

/**
 * The probe's output (src/exec/image-ship.ts): `image <id> <RepoTags json> <RootFS.Layers json>` per
 * image, `staged <hex> <bytes>`, `disk <use> <path> <fs> <available>`, `tar <version line>`; read
 * for the image `id` tagged `ref`.
 */
export function parseHostImages(out: string, ref: string, id: string): HostImages {
  const host: HostImages = { hasId: false, layerLists: [], staged: {}, disks: [], tar: '' };
  const want = familiarRef(ref);
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ');
    const [key, rest] = sp < 0 ? [line, ''] : [line.slice(0, sp), line.slice(sp + 1).trim()];
    if (key === 'image') {
      const m = /^(sha256:[0-9a-f]{64}) (\S+) (\S+)$/.exec(rest);
      if (!m) continue;
      if (m[1] === id) host.hasId = true;
      const tags = parseJson<string[]>(m[2]!);
      if (Array.isArray(tags) && tags.some((t) => familiarRef(t) === want)) host.refId = m[1];
      const layers = parseJson<string[]>(m[3]!);
      if (Array.isArray(layers) && layers.every((x) => typeof x === 'string')) host.layerLists.push(layers);
    } else if (key === 'staged') {
      const [name, size] = rest.split(' ');
      if (name && isBlobName(name) && /^\d+$/.test(size ?? '')) host.staged[name] = Number(size);
    } else if (key === 'disk') {
      const [use, path, fs, avail] = rest.split(' ');
      if ((use === 'docker' || use === 'staging') && path && fs && /^\d+$/.test(avail ?? '')) host.disks.push({ use, path, fs, available: Number(avail) });
    } else if (key === 'tar') host.tar = rest;
  }
  return host;
}

const parseJson = <T>(text: string): T | undefined => {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
};

/** A reference as `docker image inspect` lists it in RepoTags: Docker Hub's prefixes dropped, ":latest" when untagged. */
export function familiarRef(ref: string): string {
  let r = ref.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '');
  if (!r.includes('/') || r.startsWith('library/')) r = r.replace(/^library\//, '');
  const last = r.slice(r.lastIndexOf('/') + 1);
  return last.includes(':') ? r : `${r}:latest`;
}

export const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
