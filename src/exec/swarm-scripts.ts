// Host-side steps of the Swarm engine as data: small POSIX sh scripts run over the host's SSH
// connection (one round trip each), values as $1…, secret values (join tokens, secret values)
// only on stdin. Kept apart from host-scripts.ts, the per-host engine's scripts.
import type { Cmd } from '../docker/command.ts';
import { type SshTarget, sshScript } from '../docker/ssh.ts';
import { CLUSTER_NETWORK, LABEL } from '../names.ts';

/** `state|nodeId|clusterId|controlAvailable` of the host's engine. */
const SWARM_INFO = `docker info --format '{{.Swarm.LocalNodeState}}|{{.Swarm.NodeID}}|{{if .Swarm.Cluster}}{{.Swarm.Cluster.ID}}{{end}}|{{.Swarm.ControlAvailable}}'`;

const SWARM_INIT = `
set -eu
addr="$1"; pool="\${2-}"
state=$(docker info --format '{{.Swarm.LocalNodeState}}')
[ "$state" = active ] && { echo already; exit 0; }
if [ -n "$pool" ]; then docker swarm init --advertise-addr "$addr" --listen-addr "$addr:2377" --default-addr-pool "$pool" --default-addr-pool-mask-length 24 >/dev/null
else docker swarm init --advertise-addr "$addr" --listen-addr "$addr:2377" >/dev/null; fi
echo initialised
`;

/** Two lines: the worker token, the manager token. SECRET output: read into memory, never logged. */
const JOIN_TOKENS = `docker swarm join-token -q worker && docker swarm join-token -q manager`;

/**
 * Join with the token read from stdin, through the engine's API (curl on its socket), so the token
 * never is a process argument on the host either; `docker swarm join` only when curl is missing.
 */
const SWARM_JOIN = `
set -u
token=$(cat); addr="$1"; remote="$2"
[ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = active ] && { echo already; exit 0; }
if command -v curl >/dev/null 2>&1; then
  out=$(printf '{"ListenAddr":"%s:2377","AdvertiseAddr":"%s","RemoteAddrs":["%s:2377"],"JoinToken":"%s"}' "$addr" "$addr" "$remote" "$token" |
    curl -sS --max-time 120 --unix-socket /var/run/docker.sock -H 'Content-Type: application/json' --data-binary @- -w '\\n%{http_code}' http://localhost/swarm/join)
  code=$(printf '%s' "$out" | tail -n 1)
  [ "$code" = 200 ] && { echo joined; exit 0; }
  printf '%s\\n' "$out" | sed '$d' >&2; exit 1
fi
docker swarm join --token "$token" --advertise-addr "$addr" --listen-addr "$addr:2377" "$remote:2377" >/dev/null && echo joined
`;

/** Every node: `<id> <role> <availability> <status> <addr> <labels json>`. */
const NODES = `docker node ls -q | xargs -r docker node inspect --format '{{.ID}} {{.Spec.Role}} {{.Spec.Availability}} {{.Status.State}} {{.Status.Addr}} {{json .Spec.Labels}}'`;

const NODE_UPDATE = `id="$1"; shift; docker node update "$@" "$id" >/dev/null && echo updated`;

/** Drain a node and wait (bounded) until none of its tasks should run any more. */
const DRAIN = `
id="$1"; timeout="$2"
docker node update --availability drain "$id" >/dev/null || exit 1
i=0
while [ "$i" -lt "$timeout" ]; do
  n=$(docker node ps "$id" --filter desired-state=running -q 2>/dev/null | wc -l)
  [ "$n" = 0 ] && { echo drained; exit 0; }
  i=$((i + 1)); sleep 1
done
echo "still $n task(s) after \${timeout}s"; exit 1
`;

const OVERLAY = `
docker network inspect "$1" >/dev/null 2>&1 && { echo present; exit 0; }
docker network create --driver overlay --attachable --label ${LABEL.managed}=true "$1" >/dev/null && echo created
`;

export const swarmScripts = {
  info: (t: SshTarget): Cmd => sshScript(t, SWARM_INFO, [], { mutates: false }),
  init: (t: SshTarget, addr: string, pool?: string): Cmd => sshScript(t, SWARM_INIT, [addr, ...(pool ? [pool] : [])]),
  joinTokens: (t: SshTarget): Cmd => sshScript(t, JOIN_TOKENS, [], { mutates: false }),
  join: (t: SshTarget, addr: string, remote: string, token: string): Cmd => sshScript(t, SWARM_JOIN, [addr, remote], { input: token }),
  nodes: (t: SshTarget): Cmd => sshScript(t, NODES, [], { mutates: false }),
  nodeUpdate: (t: SshTarget, id: string, flags: string[]): Cmd => sshScript(t, NODE_UPDATE, [id, ...flags]),
  promote: (t: SshTarget, id: string): Cmd => sshScript(t, 'docker node promote "$1" >/dev/null && echo promoted', [id]),
  demote: (t: SshTarget, id: string): Cmd => sshScript(t, 'docker node demote "$1" >/dev/null && echo demoted', [id]),
  drain: (t: SshTarget, id: string, timeoutSeconds: number): Cmd => sshScript(t, DRAIN, [id, String(timeoutSeconds)]),
  leave: (t: SshTarget): Cmd => sshScript(t, 'docker swarm leave --force >/dev/null 2>&1; echo left'),
  nodeRemove: (t: SshTarget, id: string): Cmd => sshScript(t, 'docker node rm --force "$1" >/dev/null && echo removed', [id]),
  overlay: (t: SshTarget, name = CLUSTER_NETWORK): Cmd => sshScript(t, OVERLAY, [name]),
};

