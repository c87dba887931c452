// Shipping an image over SSH, host side: one probe (what the host has) and one receive script
// (append the streamed blobs to the staging folder, check them, `docker load`, verify the image
// ID, then tag). Plus the stream itself: a gzip'd tar of blob ranges read from the local cache.
import { createGzip } from 'node:zlib';
import { PassThrough, type Readable, Transform } from 'node:stream';
import tarFs from 'tar-fs';
import type { Cmd } from '../docker/command.ts';
import { type SshTarget, sshScript } from '../docker/ssh.ts';
import { HOST_ROOT } from '../names.ts';
import type { BlobSend } from '../plan/image-ship.ts';
import { blobStream } from './image-cache.ts';

/** Where a host stages the blobs of an image until they are loaded (one folder per image ID). */
export const IMAGE_STAGING_ROOT = `${HOST_ROOT}/images`;
export const imageStagingDir = (id: string) => `${IMAGE_STAGING_ROOT}/${id.replace(/^sha256:/, '')}`;

/** Exit codes of the receive script (besides ssh's 255). */
export const RECEIVE_EXIT = { incomplete: 3, busy: 4, loadFailed: 5, verifyFailed: 6, replan: 7 } as const;

/**
 * What the host has, in one round trip: the reference's image ID, whether the ID exists at all,
 * every image's layers (chain IDs are computed here), staged blobs, free space where the staging
 * folder and Docker's root are, and tar's version.
 */
const PROBE = `
ref="$1"; id="$2"; stage="$3"
ids=$(docker image ls -aq --no-trunc | sort -u)
[ -z "$ids" ] || docker image inspect --format 'image {{.Id}} {{json .RepoTags}} {{json .RootFS.Layers}}' $ids 2>/dev/null
if [ -d "$stage" ]; then
  for f in "$stage"/*; do [ -f "$f" ] && printf 'staged %s %s\\n' "\${f##*/}" "$(stat -c %s "$f")"; done
fi
# Docker's root (layers, docker load's temporary copy): daemon.json's data-root, else the default.
root=$(sed -n 's/.*"data-root"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p' /etc/docker/daemon.json 2>/dev/null | head -n1)
[ -n "$root" ] || root=/var/lib/docker
d="$stage"; while [ ! -d "$d" ]; do d=$(dirname "$d"); done
df -P -B1 "$root" 2>/dev/null | awk -v p="$root" 'NR==2 { print "disk docker", p, $1, $4 }'
df -P -B1 "$d" 2>/dev/null | awk -v p="$stage" 'NR==2 { print "disk staging", p, $1, $4 }'
printf 'tar %s\\n' "$(tar --version 2>/dev/null | head -n1)"
true
`;

/**
 * Receive, check, load, verify, tag. Arguments: stage ref id manifest gzip|plain [--discard blob…] [--from blob:offset…] [--load blob:size…].
 * One transfer per image and host at a time (flock): two deploys never append to one staged file together.
 * The blobs arrive as a tar (gzip'd when they are plain layer tars) whose entries are APPENDED to the staged files (GNU tar
 * --to-command), so a resumed transfer sends each blob from where the cut one stopped. Nothing is
 * loaded unless every staged file has its full size; nothing is tagged unless the loaded image has
 * the expected ID (docker load itself checks every layer against the config's diff IDs, and the ID
 * is the config's digest).
 */
const RECEIVE = `
set -u
umask 077
stage="$1"; ref="$2"; id="$3"; manifest="$4"; encoding="$5"; shift 5
root="\${stage%/*}"
mkdir -p "$root" || exit 1
# One transfer of this image at a time. sshd does not notice a client whose link died (no FIN), so
# a cut transfer's receiver can sit on the lock for hours: one that is still receiving but whose
# staged files have not grown for 15 s (the client itself gives up after 15 s of silence) is
# stopped, its whole process group, and the lock taken over. A load in progress is waited for.
exec 9>"$stage.lock"
waited=0
until flock -n 9; do
  if [ "$(cat "$stage.phase" 2>/dev/null)" = receive ] && [ -z "$(find "$stage" "$stage.phase" -type f -mmin -0.25 2>/dev/null | head -n1)" ]; then
    holder=$(cat "$stage.pgid" 2>/dev/null)
    [ -n "$holder" ] && kill -TERM "-$holder" 2>/dev/null && echo "took over from a stalled transfer" >&2
  fi
  waited=$((waited + 1))
  [ "$waited" -lt 900 ] || { echo "busy another transfer of this image to this host holds $stage.lock"; exit ${RECEIVE_EXIT.busy}; }
  sleep 1
done
read -r _ _ _ _ pgid _ < /proc/$$/stat
echo "$pgid" > "$stage.pgid"
# Staged images (and their lock files) nobody came back for in two days.
find "$root" -mindepth 1 -maxdepth 1 -mtime +2 ! -name "\${stage##*/}*" -exec rm -rf {} + 2>/dev/null
have() { [ "$(docker image inspect --format '{{.Id}}' "$1" 2>/dev/null)" = "$id" ]; }
mode=; files=
for a in "$@"; do
  case "$a" in
    --discard|--from|--load) mode="$a" ;;
    *) case "$mode" in
         --discard) rm -f "$stage/$a" ;;
         # Each blob must still have the size the probe saw (another transfer may have added to it since).
         --from) got=$(stat -c %s "$stage/\${a%%:*}" 2>/dev/null || echo 0)
                 [ "$got" = "\${a#*:}" ] || { echo "replan \${a%%:*} has $got bytes staged, not \${a#*:}"; exit ${RECEIVE_EXIT.replan}; } ;;
         *) files="$files $a" ;;
       esac ;;
  esac
done
if [ -n "$files" ]; then
  mkdir -p "$stage"
  export BERTH_STAGE="$stage"
  echo receive > "$stage.phase"
  if [ "$encoding" = gzip ]; then gzip -dc; else cat; fi | tar -x --to-command='umask 077; case "$TAR_FILENAME" in *[!0-9a-f]*|"") exit 1 ;; esac; cat >> "$BERTH_STAGE/$TAR_FILENAME"'
  names=
  for spec in $files; do
    name="\${spec%%:*}"; size="\${spec#*:}"
    got=$(stat -c %s "$stage/$name" 2>/dev/null || echo 0)
    if [ "$got" != "$size" ]; then
      rm -f "$stage.phase"
      # Another transfer of the image may have finished meanwhile (and removed the staging).
      have "$id" && { names=; break; }
      echo "incomplete $name $got $size"; exit ${RECEIVE_EXIT.incomplete}
    fi
    names="$names $name"
  done
  if [ -n "$names" ]; then
    echo load > "$stage.phase"
    printf '%s' "$manifest" > "$stage/manifest.json"
    if ! out=$(tar -c -C "$stage" manifest.json $names | docker load -q 2>&1); then
      # Content that does not match its digest is dropped (sent again next time); anything else keeps it.
      case "$out" in *diffID*|*digest*|*"unexpected EOF"*|*"invalid tar"*) rm -rf "$stage" ;; esac
      echo "load-failed $out" | tr '\\n' ' '; echo
      exit ${RECEIVE_EXIT.loadFailed}
    fi
    # docker load computed the ID from the config it loaded, after checking every layer against it.
    case "$out" in *"Loaded image ID: $id"*) echo loaded ;; *) echo "verify-failed docker load gave: $out" | tr '\\n' ' '; echo; exit ${RECEIVE_EXIT.verifyFailed} ;; esac
  fi
else
  cat >/dev/null
fi
# Tagging by the image ID itself (verified above, or found by the probe) cannot point the tag elsewhere.
docker tag "$id" "$ref" || { echo "verify-failed could not tag $id as $ref"; exit ${RECEIVE_EXIT.verifyFailed}; }
# The lock file goes too: whoever waits on it finds the image there and only tags it.
rm -rf "$stage" "$stage.phase" "$stage.pgid" "$stage.lock"
echo "tagged $ref"
`;

export const imageShipScripts = {
  probe: (t: SshTarget, ref: string, id: string): Cmd => sshScript(t, PROBE, [ref, id, imageStagingDir(id)], { mutates: false }),
  receive: (t: SshTarget, ref: string, id: string, plan: { manifest: string; gzip: boolean; discard: string[]; sends: BlobSend[]; load: { blob: string; size: number }[] }): Cmd =>
    sshScript(t, RECEIVE, [
      imageStagingDir(id), ref, id, plan.manifest, plan.gzip ? 'gzip' : 'plain',
      '--discard', ...plan.discard,
      '--from', ...plan.sends.map((s) => `${s.blob}:${s.from}`),
      '--load', ...plan.load.map((l) => `${l.blob}:${l.size}`),
    ]),
};

/**
 * The stream to pipe into the receive script: a gzip'd tar with one entry per blob range, read from
 * the local cache. `counted` reports the bytes that leave (what goes on the wire, before SSH's own
 * framing and encryption).
 */
export function blobTarStream(cacheDir: string, sends: BlobSend[], counted: (bytes: number) => void, gzip = true): Readable {
  const pack = tarFs.pack('/nonexistent-berth', {
    entries: [],
    finalize: false,
    finish: (p: any) => {
      const next = (i: number) => {
        if (i >= sends.length) return p.finalize();
        const s = sends[i]!;
        const entry = p.entry({ name: s.blob, size: s.size - s.from, mode: 0o600, uid: 0, gid: 0, mtime: new Date(0) }, (err?: Error) => {
          if (err) return p.destroy(err);
          next(i + 1);
        });
        blobStream(cacheDir, s.blob, s.from).on('error', (e) => p.destroy(e)).pipe(entry);
      };
      next(0);
    },
  } as any) as unknown as Readable;
  let total = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      counted(total);
      cb(null, chunk);
    },
  });
  const out = new PassThrough();
  // Compressed blobs (pushed layers) are sent as they are; plain tars (saved layers) through gzip.
  const squeeze = gzip ? createGzip({ level: 1 }) : new PassThrough();
  for (const s of [pack, squeeze, counter]) s.on('error', (e: Error) => out.destroy(e));
  return pack.pipe(squeeze).pipe(counter).pipe(out);
}
