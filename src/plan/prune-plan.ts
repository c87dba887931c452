// Which releases a host can forget (pure): everything beyond `deploy.keep_releases`, newest kept,
// except what rollback still needs: the live release, the previous one, and any release whose
// web container still exists (a stopped colour is an instant rollback).
import type { AppState, ReleaseRecord } from '../exec/state.ts';
import { byText } from '../text-order.ts';

export interface PrunePlan {
  kept: string[];
  pruned: string[];
  /** Image references only pruned releases used (removing one that a container uses fails harmlessly). */
  images: string[];
}

/** What a release id must look like to become a path on the host (records are read from the host). */
export const SAFE_RELEASE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;

/**
 * `imagesRecoverable`: the app's images can be had again (Berth builds them, or pulls them from a
 * configured registry). Otherwise an image may be one that exists only on this host (loaded by
 * hand, shared with another app), and pruning leaves it alone.
 */
export function planPrune(state: Pick<AppState, 'current' | 'releases' | 'containers'>, keepReleases: number, imagesRecoverable = true): PrunePlan {
  const keep = Math.max(2, keepReleases);
  const byNewest = [...state.releases].sort((a, b) => byText(b.createdAt, a.createdAt) || byText(b.id, a.id));
  const protectedIds = new Set<string>();
  if (state.current) {
    protectedIds.add(state.current.release);
    if (state.current.previous) protectedIds.add(state.current.previous.release);
  }
  for (const r of byNewest) {
    if (r.containerId && state.containers.some((c) => c.id.startsWith(r.containerId!) || r.containerId!.startsWith(c.id))) protectedIds.add(r.id);
  }
  const kept: ReleaseRecord[] = [];
  const pruned: ReleaseRecord[] = [];
  for (const r of byNewest) {
    if (protectedIds.has(r.id) || !SAFE_RELEASE_ID.test(r.id)) kept.push(r);
    else if (kept.length < keep) kept.push(r);
    else pruned.push(r);
  }
  // Two releases can share one image (a config-only change): an image goes only with its last user.
  const stillUsed = new Set(kept.map((r) => r.image));
  const images = imagesRecoverable ? [...new Set(pruned.map((r) => r.image).filter((i) => i && !stillUsed.has(i)))] : [];
  return { kept: kept.map((r) => r.id), pruned: pruned.map((r) => r.id), images };
}

/** The state right after a deploy recorded `record` as live (the read was taken before it). */
export function afterDeploy(state: Pick<AppState, 'current' | 'releases' | 'containers'>, record: ReleaseRecord, previous: string | undefined): Pick<AppState, 'current' | 'releases' | 'containers'> {
  return {
    current: { release: record.id, colour: record.colour ?? 'blue', previous: previous ? { release: previous, colour: record.colour === 'blue' ? 'green' : 'blue' } : null, switchedAt: record.createdAt },
    releases: [...state.releases.filter((r) => r.id !== record.id), record],
    containers: state.containers,
  };
}
