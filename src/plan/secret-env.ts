// Secrets as files, environment at start (PURE). Every container Berth starts gets its secret
// values as compose `secrets:` (files under /run/secrets/, bind-mounted from the release's set on
// the host, secret-sets.ts), never as container env, so `docker inspect` shows no value. A small
// /bin/sh wrapper turns the files into the environment the process expects and then execs the
// image's own entrypoint + command. Images without /bin/sh cannot run the wrapper: lacksShell names them.
import { shJoin } from '../docker/command.ts';

/** Env vars the wrapper reads: the image's original entrypoint and command, shell-quoted. */
export const IMAGE_ENTRYPOINT_VAR = 'BERTH_IMAGE_ENTRYPOINT';
export const IMAGE_CMD_VAR = 'BERTH_IMAGE_CMD';
/** Space-separated env keys whose values hold `${SECRET}` references, expanded at start. */
export const SECRET_TEMPLATES_VAR = 'BERTH_SECRET_TEMPLATES';
export const SECRETS_DIR_IN_CONTAINER = '/run/secrets';

/**
 * Export every file in /run/secrets whose name is an env name as that variable (trailing newlines
 * kept). No single quotes: it is also embedded in `sh -c '…'` scripts on the host.
 */
export const SECRET_EXPORT_SH = [
  `for f in ${SECRETS_DIR_IN_CONTAINER}/*; do`,
  '  n=${f##*/}',
  '  case $n in ""|[0-9]*|*[!A-Za-z0-9_]*) continue;; esac',
  '  [ -f "$f" ] || continue',
  '  v=$(cat "$f"; printf x); export "$n=${v%x}"',
  'done',
].join('\n');

/**
 * The entrypoint wrapper: secrets → env, `${NAME}` references in the listed env values expanded,
 * then exec the image's entrypoint with the given command (or the image's own command).
 */
export const ENTRY_WRAPPER_SH = [
  'set -e',
  SECRET_EXPORT_SH,
  `for k in \${${SECRET_TEMPLATES_VAR}-}; do`,
  '  case $k in ""|[0-9]*|*[!A-Za-z0-9_]*) continue;; esac',
  '  eval "s=\\${$k-}"; out=',
  '  while :; do',
  '    case $s in',
  "      *'${'*'}'*)",
  "        pre=${s%%'${'*}; rest=${s#*'${'}; n=${rest%%'}'*}; s=${rest#*'}'}",
  "        case $n in \"\"|[0-9]*|*[!A-Za-z0-9_]*) out=$out$pre'${'$n'}'; continue;; esac",
  '        eval "v=\\${$n-}"; out=$out$pre$v;;',
  '      *) break;;',
  '    esac',
  '  done',
  '  export "$k=$out$s"',
  'done',
  `[ "$#" -gt 0 ] || eval "set -- \${${IMAGE_CMD_VAR}-}"`,
  `e=\${${IMAGE_ENTRYPOINT_VAR}-}`,
  `unset ${SECRET_TEMPLATES_VAR} ${IMAGE_CMD_VAR} ${IMAGE_ENTRYPOINT_VAR}`,
  '[ -n "$e$*" ] || { echo "berth: the image has no entrypoint or command to run" >&2; exit 127; }',
  'eval "exec $e \\"\\$@\\""',
].join('\n');

/** `$0` of the wrapper (shows in `ps` and error messages). */
export const WRAPPER_NAME = 'berth-env';

/** Env for compose interpolation: the image's entrypoint and command from `docker image inspect`. */
export function imageExecEnv(entrypoint: string[] | null | undefined, cmd: string[] | null | undefined): Record<string, string> {
  return { [IMAGE_ENTRYPOINT_VAR]: shJoin(entrypoint ?? []), [IMAGE_CMD_VAR]: shJoin(cmd ?? []) };
}

/** `{{json .Config.Entrypoint}} {{json .Config.Cmd}}` → the two argv arrays. */
export function parseImageExec(out: string): { entrypoint: string[] | null; cmd: string[] | null } | undefined {
  const line = out.trim();
  // Either half may contain spaces inside its strings: try each split point.
  for (let i = line.indexOf(' '); i > 0; i = line.indexOf(' ', i + 1)) {
    try {
      const entrypoint = JSON.parse(line.slice(0, i)) as unknown;
      const cmd = JSON.parse(line.slice(i + 1)) as unknown;
      const ok = (v: unknown) => v === null || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
      if (ok(entrypoint) && ok(cmd)) return { entrypoint: entrypoint as string[] | null, cmd: cmd as string[] | null };
    } catch {
      /* not this split */
    }
  }
  return undefined;
}

/** Secret names referenced as `${NAME}` in an env value. */
export const secretRefs = (value: string): string[] =>
  [...String(value).replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!);

/** A command run inside a live container (`exec`, aliases) with the same secret env as its process. */
export const withSecretEnv = (command: string[]): string[] => [
  '/bin/sh', '-c', `${IMAGE_ENTRYPOINT_VAR}=\n${ENTRY_WRAPPER_SH}`, WRAPPER_NAME, ...command,
];

/** Keys of the host env file that are not secrets (the image's entrypoint and command). */
export const isImageExecKey = (key: string) => key === IMAGE_ENTRYPOINT_VAR || key === IMAGE_CMD_VAR;

/** Docker's answer when a container's entrypoint is /bin/sh and the image has none (distroless, scratch). */
export const lacksShell = (output: string) => /exec: "\/bin\/sh": (stat \/bin\/sh: no such file or directory|executable file not found)/.test(output);

/** What to say when an image cannot run the secrets wrapper. */
export const noShellMessage = (image: string) =>
  `the image ${image} has no /bin/sh: every app container starts through Berth's /bin/sh wrapper, which turns the secret files into env (a distroless or scratch image cannot run it). ` +
  'Use an image with a shell (e.g. the -debug or busybox variant), or add one (COPY --from=busybox:stable-musl /bin/busybox /bin/sh)';
