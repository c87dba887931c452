// Remove pruned releases on a host in one round trip: their folders, their secret copies, the
// images only they used (`docker image rm` refuses an image a container still uses: kept), and the
// secret sets no remaining release names and no container of the app mounts.
import type { Cmd } from '../docker/command.ts';
import { type SshTarget, sshScript } from '../docker/ssh.ts';

const PRUNE = `
releases="$1"; secrets="$2"; sets="$3"; project="$4"; shift 4
while [ "$#" -gt 0 ] && [ "$1" != "--images" ]; do
  rm -rf "$releases/$1" && rm -f "$secrets/$1.env" && echo "pruned $1"
  shift
done
[ "$#" -gt 0 ] && shift
for image in "$@"; do
  if docker image rm "$image" >/dev/null 2>&1; then echo "image-removed $image"; else echo "image-kept $image"; fi
done
if [ -n "$sets" ] && [ -d "$sets" ]; then
  used=$(docker ps -aq --filter "label=com.docker.compose.project=$project" | xargs -r docker inspect -f '{{range .Mounts}}{{.Source}} {{end}}' 2>/dev/null) || exit 0
  used=$(echo $used)
  for d in "$sets"/*; do
    [ -d "$d" ] || continue
    id=\${d##*/}
    grep -qsx "BERTH_SECRETS_ID=\\"$id\\"" "$secrets"/*.env && continue
    case " $used " in *" $d/"*) continue;; esac
    rm -rf "$d" && echo "set-removed $id"
  done
fi
true
`;

/** `sets`: where the app's secret sets are, and its compose project (whose containers' mounts count). */
export const pruneScript = (t: SshTarget, releasesDir: string, secretsDir: string, ids: string[], images: string[], sets?: { dir: string; project: string }): Cmd =>
  sshScript(t, PRUNE, [releasesDir, secretsDir, sets?.dir ?? '', sets?.project ?? '', ...ids, '--images', ...images]);
