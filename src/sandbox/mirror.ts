// The sandbox's Docker Hub mirror: every production-named image the sandbox builds (traefik:v3.6.15,
// postgres:16, litestream/litestream:0.5.17, tecnativa/docker-socket-proxy:v0.4.1, berth/testapp:v1…)
// is pushed from this machine's engine to berth-sandbox-mirror, which every host's daemon.json names
// as its registry mirror: hosts pull these names as production servers pull them from Docker Hub.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MIRROR, SANDBOX_STATE_DIR } from './config.ts';
import { discoverImages } from './images.ts';
import { sandboxRequest } from './http.ts';
import { run } from './proc.ts';

const STAMP = join(SANDBOX_STATE_DIR, 'mirror', 'pushed.json');
/** Sandbox-internal images: never pulled by a host. */
const NOT_MIRRORED = [/^berth\/debian:/, /^berth\/(pebble|pebble-dns|cfmock|s3|registry|dns|machine|machine-docker):/];

/** Docker Hub path of a short name: traefik:v3 → library/traefik, berth/testapp → berth/testapp. */
export function mirrorPath(tag: string): { repo: string; tag: string } {
  const at = tag.lastIndexOf(':');
  const name = at > tag.lastIndexOf('/') ? tag.slice(0, at) : tag;
  const t = at > tag.lastIndexOf('/') ? tag.slice(at + 1) : 'latest';
  return { repo: name.includes('/') ? name : `library/${name}`, tag: t };
}

export function mirroredTags(all: string[]): string[] {
  return [...new Set(all)].filter((t) => !NOT_MIRRORED.some((re) => re.test(t))).sort();
}

async function inMirror(tag: string): Promise<boolean> {
  const { repo, tag: t } = mirrorPath(tag);
  const r = await sandboxRequest(`http://${MIRROR.address}/v2/${repo}/manifests/${t}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
    timeoutMs: 5000,
  }).catch(() => undefined);
  return r?.status === 200;
}

/** Push every mirrored image (of `opts.tags`, when given) whose local ID changed since its last push or that the mirror lacks. */
export async function pushToMirror(opts: { tags?: ReadonlySet<string> } = {}): Promise<{ pushed: string[]; kept: string[] }> {
  const tags = mirroredTags((await discoverImages()).flatMap((d) => d.tags).filter((t) => !opts.tags || opts.tags.has(t)));
  const stamps: Record<string, string> = existsSync(STAMP) ? JSON.parse(await readFile(STAMP, 'utf8')) : {};
  const pushed: string[] = [];
  const kept: string[] = [];
  for (const tag of tags) {
    const id = await run(['docker', 'image', 'inspect', '--format', '{{.Id}}', tag], { allowFail: true });
    if (id.code !== 0) throw new Error(`image ${tag} is missing on this machine: the mirror cannot serve it`);
    if (stamps[tag] === id.stdout.trim() && (await inMirror(tag))) {
      kept.push(tag);
      continue;
    }
    const { repo, tag: t } = mirrorPath(tag);
    const ref = `${MIRROR.address}/${repo}:${t}`;
    await run(['docker', 'tag', tag, ref]);
    try {
      await run(['docker', 'push', '-q', ref], { timeoutMs: 600_000 });
    } finally {
      await run(['docker', 'rmi', ref], { allowFail: true });
    }
    stamps[tag] = id.stdout.trim();
    pushed.push(tag);
    await mkdir(join(SANDBOX_STATE_DIR, 'mirror'), { recursive: true });
    await writeFile(STAMP, `${JSON.stringify(stamps, null, 2)}\n`);
  }
  return { pushed, kept };
}
