// PURE helpers of the `transfer` bench scenario: which layers a change made, what `docker push`
// uploaded, and the byte counters read from a host's firewall.
import { chainIds } from '../plan/image-ship.ts';

/** Indices (bottom first) of `after`'s layers that `before` does not have, by chain ID. */
export function changedLayers(before: string[], after: string[]): number[] {
  const had = new Set(chainIds(before));
  return chainIds(after).flatMap((c, i) => (had.has(c) ? [] : [i]));
}

export type PushStatus = 'pushed' | 'mounted' | 'exists';

/** `docker push` progress lines: "<12 hex of the diff ID>: Pushed | Mounted from … | Layer already exists". */
export function parsePushOutput(out: string): Map<string, PushStatus> {
  const st = new Map<string, PushStatus>();
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]{12}): (Pushed|Mounted from .*|Layer already exists)\s*$/.exec(line.trim());
    if (m) st.set(m[1]!, m[2] === 'Pushed' ? 'pushed' : m[2] === 'Layer already exists' ? 'exists' : 'mounted');
  }
  return st;
}

/** Bytes `docker push` uploaded: the compressed size (manifest) of every layer it reported as Pushed, plus the config. */
export function pushedBytes(statuses: Map<string, PushStatus>, diffIds: string[], manifest: { config: { size: number }; layers: { size: number }[] }): { bytes: number; pushed: number; skipped: number } {
  let bytes = manifest.config.size;
  let pushed = 0;
  diffIds.forEach((d, i) => {
    if (statuses.get(d.replace(/^sha256:/, '').slice(0, 12)) === 'pushed') {
      bytes += manifest.layers[i]?.size ?? 0;
      pushed++;
    }
  });
  return { bytes, pushed, skipped: diffIds.length - pushed };
}

/** Sizes of a `docker save` archive's layer blobs from `tar -tv` (OCI layout: blobs/sha256/<diff ID> for plain layers). */
export function savedBlobSizes(listing: string): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const line of listing.split('\n')) {
    const m = /^\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+blobs\/sha256\/([0-9a-f]{64})$/.exec(line.trim());
    if (m) sizes.set(`sha256:${m[2]}`, Number(m[1]));
  }
  return sizes;
}

/** Bytes counted by the iptables rule whose comment is `comment` (`iptables -L INPUT -v -x -n`). */
export function ruleBytes(listing: string, comment: string): number {
  for (const line of listing.split('\n')) {
    if (line.includes(`/* ${comment} */`)) {
      const cols = line.trim().split(/\s+/);
      return Number(cols[1]);
    }
  }
  return NaN;
}
