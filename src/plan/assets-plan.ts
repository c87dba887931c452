// Asset bridging (asset_path), PURE: which releases' assets a colour's merged directory holds.
// A page rendered by the previous release links to its own fingerprinted files; after the switch
// those requests reach the new colour, so it must serve them too (Kamal's asset_path, as a merge of
// the kept releases' asset folders). What is not kept is pruned on the host.
import type { ReleaseRecord } from '../exec/state.ts';

export interface AssetSource {
  /** Release tag (names extracted/<tag> and volumes/<tag> on the host). */
  tag: string;
  /** Image to copy the assets out of when extracted/<tag> is missing or stale. */
  image: string;
}

/**
 * The assets a colour of `target` mounts: the live release's (its pages are the ones open in
 * browsers; it may be older than others after a rollback) and the newest other releases, `keep - 1`
 * in all (one entry per tag), oldest first, then the target itself last so its own files win a name
 * clash (an unfingerprinted file such as a manifest). Everything else is pruned.
 */
export function planAssets(releases: readonly ReleaseRecord[], target: AssetSource, keep: number, liveRelease?: string): AssetSource[] {
  const newestFirst = [...releases].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  const live = releases.find((r) => r.id === liveRelease);
  const picked: ReleaseRecord[] = [];
  const seen = new Set([target.tag]);
  for (const r of [...(live ? [live] : []), ...newestFirst]) {
    if (picked.length >= Math.max(0, keep - 1)) break;
    if (seen.has(r.tag)) continue;
    seen.add(r.tag);
    picked.push(r);
  }
  const oldestFirst = newestFirst.filter((r) => picked.includes(r)).reverse();
  return [...oldestFirst.map((r) => ({ tag: r.tag, image: r.image })), target];
}

/** Positional arguments of the host script: tag image pairs in merge order. */
export const assetArgs = (sources: readonly AssetSource[]) => sources.flatMap((s) => [s.tag, s.image]);

/** The asset_path a rendered compose file mounts for the web colours (rollback reads the release's own file). */
export function assetPathOf(composeYaml: Record<string, unknown>, volumesDirPrefix: string): string | undefined {
  const services = (composeYaml.services ?? {}) as Record<string, { volumes?: unknown[] }>;
  for (const svc of Object.values(services)) {
    for (const v of svc.volumes ?? []) {
      if (typeof v !== 'string' || !v.startsWith(volumesDirPrefix)) continue;
      const parts = v.split(':');
      if (parts.length >= 2) return parts[1];
    }
  }
  return undefined;
}
