// Host scripts for processes placed across hosts: can this host open a TCP connection to the
// accessories it reaches over the private network (what a firewall that was not updated, or a
// missing private route, breaks)? Addresses and ports reach the script as arguments.
import type { Cmd } from '../docker/command.ts';
import { type SshTarget, sshScript } from '../docker/ssh.ts';

/**
 * `$1 $2` = address port, repeated. Prints `reachable` or `unreachable <address:port>…` (exit 1).
 * bash's /dev/tcp (Debian and Ubuntu servers have bash); without bash the check is skipped.
 */
const REACH = `
command -v bash >/dev/null 2>&1 || { echo 'skipped (no bash)'; exit 0; }
bad=''
while [ $# -ge 2 ]; do
  timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null || bad="$bad $1:$2"
  shift 2
done
[ -z "$bad" ] || { echo "unreachable$bad"; exit 1; }
echo reachable
`;

export const reachScripts = {
  reach: (t: SshTarget, endpoints: { address: string; port: number }[]): Cmd =>
    sshScript(t, REACH, endpoints.flatMap((e) => [e.address, String(e.port)]), { mutates: false }),
};
