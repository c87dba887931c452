// Which release a deploy ships, decided from what runs (pure): the app's build context revision
// when Berth builds the image, the image the host runs when it pulls a fixed tag. Never the
// Berth project's own git HEAD (an unrelated commit there is not a new release of the app).

/** The tag `plan` renders for an image Berth builds: the real revision is only known at deploy time. */
export const PLAN_BUILD_TAG = 'build-context';
/** An untagged image pulled as is: Docker's default tag. */
export const DEFAULT_TAG = 'latest';

/** The build context's git state: its last commit, and a hash of uncommitted changes when dirty. */
export interface SourceRevision {
  commit: string;
  dirtyHash?: string;
}

export type ReleaseTagSource = 'flag' | 'image tag' | 'build context' | 'default';

export interface ReleaseTagInput {
  explicit?: string;
  /** The tag written in app.yml's image, if any. */
  imageTag?: string;
  /** The app builds its image (a `build:` section). */
  builds: boolean;
  /** The build context's revision; undefined when planning (offline) or when it is not a git checkout. */
  source?: SourceRevision;
}

/** `3f2a9c1`, or `3f2a9c1-dirty-5e0b7d12` for uncommitted changes (a valid image tag and path segment). */
export const revisionTag = (s: SourceRevision) => (s.dirtyHash ? `${s.commit}-dirty-${s.dirtyHash.slice(0, 8)}` : s.commit);

/**
 * The tag a release is rendered with: --release, else the build context's revision (for an image
 * Berth builds, even if app.yml writes a tag: the tag stays, the release id follows the code),
 * else the image's written tag, else the plan placeholder for builds or Docker's `latest`.
 */
export function chooseReleaseTag(i: ReleaseTagInput): { tag: string; source: ReleaseTagSource } {
  if (i.explicit) return { tag: i.explicit, source: 'flag' };
  if (i.builds && i.source) return { tag: revisionTag(i.source), source: 'build context' };
  if (i.imageTag) return { tag: i.imageTag, source: 'image tag' };
  if (i.builds) return { tag: PLAN_BUILD_TAG, source: 'build context' };
  return { tag: DEFAULT_TAG, source: 'default' };
}

/** `sha256:abcdef…` or a bare hex id → its first 12 hex digits. */
export const shortDigest = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

/**
 * Release id: the tag, the rendered config's hash (a config-only change is a new release) and,
 * for a pulled image, the id of the image the host runs (a moved tag is a new release).
 * A built image needs no digest: its tag already names the code.
 */
export function releaseId(tag: string, configHash: string, imageDigest?: string): string {
  const base = `${tag}-${configHash.slice(0, 10)}`;
  return imageDigest ? `${base}-${shortDigest(imageDigest)}` : base;
}
