// Shell lines the per-host and the Swarm observe scripts share (host-scripts.ts OBSERVE_APP,
// swarm-app-scripts.ts OBSERVE): both read the same app folder ($dir) on the host and print the same
// sections, which src/exec/state.ts parses for either engine. `$image` is an image reference or empty.

/** The deploy lock's holder, when held. Printed first and again last: a lock taken mid-read shows. */
export const OBSERVE_LOCK = `echo '--lock'; [ -d "$dir/lock" ] && { cat "$dir/lock/holder.json" 2>/dev/null || echo '{}'; echo; }`;
/** Colours whose delayed retire is still pending. */
/** A colour whose retire is pending, or whose stop has begun (its pidfile renamed to <pidfile>.<pid>.stopping). */
export const OBSERVE_RETIRING = `echo '--retiring'; for c in blue green; do
  if [ -f "$dir/retire-$c.pid" ] && kill -0 "$(cat "$dir/retire-$c.pid")" 2>/dev/null; then echo "$c"; continue; fi
  for f in "$dir/retire-$c.pid".*.stopping; do p=\${f%.stopping}; [ -e "$f" ] && kill -0 "\${p##*.}" 2>/dev/null && { echo "$c"; break; }; done
done`;
export const OBSERVE_CURRENT = `echo '--current'; cat "$dir/current.json" 2>/dev/null && echo`;
/** Every recorded release, one JSON object per line. */
export const OBSERVE_RELEASES = `echo '--releases'; for f in "$dir"/releases/*/release.json; do [ -f "$f" ] && { tr -d '\\n' < "$f"; echo; }; done`;
/** The wanted image's ID, repo digests and entrypoint+cmd, when the host has it. */
export const OBSERVE_IMAGE = `echo '--image'; [ -n "$image" ] && docker image inspect --format '{{.Id}}{{"\\n"}}--image-digests{{"\\n"}}{{json .RepoDigests}}{{"\\n"}}--image-exec{{"\\n"}}{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$image" 2>/dev/null`;
