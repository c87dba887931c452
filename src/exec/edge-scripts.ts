// Host-side script of `setup` for the edge's secrets: lego reads a DNS provider's credentials once,
// when Traefik builds its ACME client, so a changed value only takes effect in a new Traefik. The
// new values arrive in an .incoming folder; this moves them into place and says whether an existing
// one changed (compared on the host: no value or digest leaves it).
import type { ScriptPart } from './host-scripts.ts';

const SWAP_EDGE_SECRETS = `
dir="$1"; inc="$dir/.incoming"; changed=0
for f in "$inc"/*; do
  [ -f "$f" ] || continue
  d="$dir/$(basename "$f")"
  if [ -f "$d" ] && ! cmp -s "$f" "$d"; then changed=1; fi
  mv -f "$f" "$d" || exit 2
done
rmdir "$inc" 2>/dev/null
if [ "$changed" = 1 ]; then echo secrets-changed; else echo secrets-same; fi
`;

export const edgeIncoming = (secretsDir: string) => `${secretsDir}/.incoming`;

export const swapEdgeSecrets = (secretsDir: string): ScriptPart => ({ script: SWAP_EDGE_SECRETS, args: [secretsDir] });
