// Remove pruned releases on a host in one round trip: their folders, their secret copies, and the
// images only they used (`docker image rm` refuses an image a container still uses: kept).
import type { Cmd } from '../docker/command.ts';
import { type SshTarget, sshScript } from '../docker/ssh.ts';

const PRUNE = `
releases="$1"; secrets="$2"; shift 2
while [ "$#" -gt 0 ] && [ "$1" != "--images" ]; do
  rm -rf "$releases/$1" && rm -f "$secrets/$1.env" && echo "pruned $1"
  shift
done
[ "$#" -gt 0 ] && shift
for image in "$@"; do
  if docker image rm "$image" >/dev/null 2>&1; then echo "image-removed $image"; else echo "image-kept $image"; fi
done
true
`;

export const pruneScript = (t: SshTarget, releasesDir: string, secretsDir: string, ids: string[], images: string[]): Cmd =>
  sshScript(t, PRUNE, [releasesDir, secretsDir, ...ids, '--images', ...images]);
