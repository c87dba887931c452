// Server hardening for `npm run setup -- <host> --harden` (pure): one idempotent POSIX sh script
// from the host's `hardening` settings in hosts.json, and a read-only check script
// (`--harden --check`) that compares the host with what the first one writes. UFW allows only
// SSH, HTTP and HTTPS; because Docker-published ports bypass UFW's INPUT chain, the DOCKER-USER
// chain drops everything that arrives on the public interface for a container unless it was sent
// to port 80 or 443. fail2ban guards sshd; SSH logins become key-only.
//
// Both scripts read sshd's own port(s) on the host (`sshd -T`): the port the operator dials can be
// a forwarded one, and opening that instead of sshd's would lock the operator out.
import type { HostConfig } from '../config/schema.ts';
import { swarmUfwRules } from './hardening-swarm.ts';
import type { AccessoryOpening } from './placement.ts';

const MARK_BEGIN = '# BEGIN berth DOCKER-USER';
const MARK_END = '# END berth DOCKER-USER';

export const SSHD_DROPIN = '/etc/ssh/sshd_config.d/10-berth.conf';
/** A .local file in jail.d is read after every jail.d/*.conf (Debian's defaults-debian.conf included). */
export const FAIL2BAN_JAIL = '/etc/fail2ban/jail.d/berth.local';
const FAIL2BAN_JAIL_OLD = '/etc/fail2ban/jail.d/berth.conf';
export const UFW_AFTER_RULES = '/etc/ufw/after.rules';

/** sshd settings the drop-in sets, as `sshd -T` prints them (lower-case key, accepted values). */
export const SSHD_SETTINGS: readonly { line: string; key: string; effective: readonly string[] }[] = [
  { line: 'PasswordAuthentication no', key: 'passwordauthentication', effective: ['no'] },
  { line: 'KbdInteractiveAuthentication no', key: 'kbdinteractiveauthentication', effective: ['no'] },
  // sshd -T prints prohibit-password under its older name.
  { line: 'PermitRootLogin prohibit-password', key: 'permitrootlogin', effective: ['prohibit-password', 'without-password'] },
];

interface Parts {
  ufw: boolean;
  fail2ban: boolean;
  ssh_key_only: boolean;
}
const parts = (host: HostConfig): Parts => ({ ufw: true, fail2ban: true, ssh_key_only: true, ...host.hardening });

const sq = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;

/**
 * Shell lines shared by both scripts: sshd's ports ($ssh_ports, space-separated, and $ssh_ports_csv),
 * the public interface ($ext), and the exact text of each file hardening writes ($want_*).
 */
/** What the host's cluster adds (hardening-swarm.ts): the other nodes' private addresses. */
export interface HardeningExtras {
  swarmPeers?: readonly string[];
}

function prelude(p: Parts, openings: readonly AccessoryOpening[] = [], extras: HardeningExtras = {}): string[] {
  const acc = accessoryFirewall(openings);
  const lines = [
    `ssh_ports=$(sshd -T 2>/dev/null | awk '$1=="port"{print $2} $1=="listenaddress"{n=split($2,a,":"); print a[n]}' | sort -un | tr '\\n' ' ' | sed 's/ *$//')`,
    `[ -n "$ssh_ports" ] || { echo "cannot read sshd's port (sshd -T failed): refusing to touch the firewall or sshd" >&2; exit 2; }`,
    `ssh_ports_csv=$(echo "$ssh_ports" | tr ' ' ',')`,
    `want_sshd=$(printf '%s\\n' ${SSHD_SETTINGS.map((s) => sq(s.line)).join(' ')})`,
  ];
  if (p.fail2ban) {
    lines.push(
      // systemd hosts log sshd to the journal only (Debian 12 has no /var/log/auth.log by default);
      // elsewhere sshd logs through syslog (or -E) to /var/log/auth.log. Set both keys: Debian's
      // own jail.d defaults may name a backend that does not exist here.
      `if [ -d /run/systemd/system ]; then f2b_src='backend = systemd'; else f2b_src=$(printf '%s\\n' 'backend = auto' 'logpath = /var/log/auth.log'); fi`,
      `want_jail=$(printf '%s\\n' '[sshd]' 'enabled = true' "port = $ssh_ports_csv" "$f2b_src" 'banaction = iptables-multiport' 'maxretry = 5' 'findtime = 10m' 'bantime = 1h')`,
    );
  }
  if (p.ufw) {
    lines.push(
      `ext=$(ip route show default 2>/dev/null | awk '{print $5; exit}')`,
      `[ -n "$ext" ] || { echo "no default route: cannot tell the public interface for DOCKER-USER" >&2; exit 2; }`,
      // Match the port the client sent to (before Docker's DNAT), not the container's port: a
      // container that publishes 8080->80 must stay closed.
      ...acc.prelude,
      `want_docker_user=$(printf '%s\\n' ${sq(MARK_BEGIN)} '*filter' ':DOCKER-USER - [0:0]' \\`,
      `  '-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN' \\`,
      ...acc.dockerUser.map((l) => `  ${l} \\`),
      `  "-A DOCKER-USER -i $ext -p tcp -m conntrack --ctorigdstport 80 -j RETURN" \\`,
      `  "-A DOCKER-USER -i $ext -p tcp -m conntrack --ctorigdstport 443 -j RETURN" \\`,
      `  "-A DOCKER-USER -i $ext -j DROP" 'COMMIT' ${sq(MARK_END)})`,
      `want_ufw=$({ for p in $ssh_ports 80 443; do echo "ufw allow $p/tcp"; done; ${acc.ufw.length ? `printf '%s\\n' ${acc.ufw.join(' ')}; ` : ''}} | awk '!seen[$0]++')`,
    );
    // Swarm: its ports from the cluster's other nodes only.
    const swarm = swarmUfwRules(extras.swarmPeers ?? []);
    if (swarm.length) lines.push(`want_ufw=$(printf '%s\\n' "$want_ufw" ${swarm.map(sq).join(' ')})`);
  }
  return lines;
}

/**
 * The firewall openings for accessories other hosts reach (placement across hosts), kept apart from
 * the rest: on the interface holding the host's private_ip ($pif_<n>), the accessory's published
 * port admits the private_ips of the app's other hosts and drops everyone else (the front, a host
 * outside the app, the operator's machine), before the public-interface rules. DOCKER-USER matches
 * the address and port the client sent to (before Docker's DNAT), as iptables -S prints them. The
 * UFW rules say the same in `ufw status` (Docker-published traffic is forwarded, so DOCKER-USER is
 * what filters it).
 */
function accessoryFirewall(openings: readonly AccessoryOpening[]): { prelude: string[]; dockerUser: string[]; ufw: string[]; apply: string[] } {
  const prelude: string[] = [];
  const dockerUser: string[] = [];
  const ufw: string[] = [];
  [...new Set(openings.map((o) => o.address))].forEach((address, i) => {
    prelude.push(
      `pif_${i}=$(ip -o addr show 2>/dev/null | awk -v a=${sq(address)} '{split($4, x, "/"); if (x[1] == a) {print $2; exit}}')`,
      `[ -n "$pif_${i}" ] || { echo ${sq(`private_ip ${address} (hosts.json) is no address of this host: refusing to touch the firewall`)} >&2; exit 2; }`,
    );
    for (const o of openings.filter((x) => x.address === address)) {
      const match = `-p tcp -m conntrack --ctorigdst ${o.address} --ctorigdstport ${o.port}`;
      for (const src of o.sources) {
        dockerUser.push(`"-A DOCKER-USER -s ${src}/32 -i $pif_${i} ${match} -j RETURN"`);
        ufw.push(sq(`ufw allow from ${src} to ${o.address} port ${o.port} proto tcp`));
      }
      dockerUser.push(`"-A DOCKER-USER -i $pif_${i} ${match} -j DROP"`);
    }
  });
  // Added as written (each is one line of want_ufw, which the cleanup above keeps).
  const apply = ufw.length ? [`printf '%s\\n' ${ufw.join(' ')} | while read -r rule; do ufw \${rule#ufw } >/dev/null; done`] : [];
  return { prelude, dockerUser, ufw, apply };
}

/** `openings`: accessories other hosts reach on this one (placement.ts accessoryOpenings). */
export function renderHardening(host: HostConfig, openings: readonly AccessoryOpening[] = [], extras: HardeningExtras = {}): string {
  const p = parts(host);
  const out: string[] = [
    'set -eu',
    'export DEBIAN_FRONTEND=noninteractive',
    'need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q "$2"; }; }',
    'systemd() { [ -d /run/systemd/system ]; }',
    ...prelude(p, openings, extras),
  ];
  if (p.ssh_key_only) {
    out.push(
      `# Key-only SSH (checked with sshd -t before reloading, so a bad file never locks us out).`,
      `mkdir -p /etc/ssh/sshd_config.d`,
      `printf '%s\\n' "$want_sshd" > ${SSHD_DROPIN}`,
      `sshd -t`,
      `if systemd; then systemctl reload ssh; elif [ -s /run/sshd.pid ]; then kill -HUP "$(cat /run/sshd.pid)"; else service ssh reload; fi`,
    );
  }
  if (p.fail2ban) {
    out.push(
      `need fail2ban-client fail2ban`,
      `if systemd; then python3 -c 'import systemd.journal' 2>/dev/null || apt-get install -y -q python3-systemd; fi`,
      `mkdir -p /etc/fail2ban/jail.d`,
      `rm -f ${FAIL2BAN_JAIL_OLD}`,
      `printf '%s\\n' "$want_jail" > ${FAIL2BAN_JAIL}`,
      // enable --now would leave a running fail2ban on its old jail.
      `if systemd; then systemctl enable --quiet fail2ban && systemctl restart fail2ban;`,
      `elif fail2ban-client ping >/dev/null 2>&1; then fail2ban-client reload >/dev/null;`,
      `else fail2ban-client -x start >/dev/null; fi`,
    );
  }
  if (p.ufw) {
    out.push(
      `need ufw ufw`,
      `ufw default deny incoming >/dev/null`,
      `ufw default allow outgoing >/dev/null`,
      `# Exactly these rules: drop any other rule a person added by hand.`,
      `ufw show added 2>/dev/null | grep '^ufw ' | grep -vxF "$want_ufw" | while read -r rule; do ufw delete \${rule#ufw } >/dev/null; done`,
      `for p in $ssh_ports 80 443; do ufw allow "$p/tcp" >/dev/null; done`,
      ...accessoryFirewall(openings).apply,
      ...swarmUfwRules(extras.swarmPeers ?? []).map((r) => `${r} >/dev/null`),
      `# Docker-published ports skip UFW: filter them in DOCKER-USER on the public interface.`,
      `rules=${UFW_AFTER_RULES}`,
      `sed -i '/^${MARK_BEGIN}$/,/^${MARK_END}$/d' "$rules"`,
      `printf '%s\\n' "$want_docker_user" >> "$rules"`,
      `ufw --force enable >/dev/null`,
      `ufw reload >/dev/null`,
    );
  }
  out.push('echo hardened');
  return out.join('\n') + '\n';
}

/** Exit code of the check script when something differs from what `--harden` sets. */
export const DRIFT_EXIT = 3;

/**
 * Read-only: one line per check, `ok <what>` or `drift <what>: <found>`, exit DRIFT_EXIT when any
 * differs. Nothing on the host is written, installed or reloaded.
 */
export function renderHardeningCheck(host: HostConfig, openings: readonly AccessoryOpening[] = [], extras: HardeningExtras = {}): string {
  const p = parts(host);
  const out: string[] = [
    'set -u',
    'drift=0',
    'ok() { echo "ok $*"; }',
    'bad() { echo "drift $*"; drift=1; }',
    ...prelude(p, openings, extras),
  ];
  if (p.ssh_key_only) {
    out.push(
      `[ "$(cat ${SSHD_DROPIN} 2>/dev/null)" = "$want_sshd" ] && ok "sshd: ${SSHD_DROPIN}" || bad "sshd: ${SSHD_DROPIN} is missing or was changed"`,
      `eff=$(sshd -T 2>/dev/null)`,
      ...SSHD_SETTINGS.map(
        (s) =>
          `got=$(echo "$eff" | awk '$1=="${s.key}"{print $2; exit}'); case "$got" in ${s.effective.join('|')}) ok "sshd: ${s.key} $got";; *) bad "sshd: ${s.key} is \${got:-unset} (want ${s.effective[0]})";; esac`,
      ),
    );
  }
  if (p.fail2ban) {
    out.push(
      `[ "$(cat ${FAIL2BAN_JAIL} 2>/dev/null)" = "$want_jail" ] && ok "fail2ban: ${FAIL2BAN_JAIL}" || bad "fail2ban: ${FAIL2BAN_JAIL} is missing or was changed"`,
      `fail2ban-client status sshd >/dev/null 2>&1 && ok "fail2ban: sshd jail running" || bad "fail2ban: the sshd jail is not running"`,
    );
  }
  if (p.ufw) {
    out.push(
      `if ! command -v ufw >/dev/null 2>&1; then bad "ufw: not installed"; else`,
      `  st=$(ufw status verbose 2>&1)`,
      `  echo "$st" | grep -qx 'Status: active' && ok "ufw: active" || bad "ufw: not active"`,
      `  echo "$st" | grep -q '^Default: deny (incoming), allow (outgoing)' && ok "ufw: default deny incoming" || bad "ufw: default policy is $(echo "$st" | sed -n 's/^Default: //p')"`,
      `  got_ufw=$(ufw show added 2>/dev/null | grep '^ufw ' | sort -u)`,
      `  extra=$(echo "$got_ufw" | while IFS= read -r r; do [ -z "$r" ] || echo "$want_ufw" | grep -qxF -- "$r" || echo "$r"; done)`,
      `  missing=$(echo "$want_ufw" | while IFS= read -r r; do echo "$got_ufw" | grep -qxF -- "$r" || echo "$r"; done)`,
      `  [ -z "$extra" ] || bad "ufw: rules setup did not add: $(echo $extra)"`,
      `  [ -z "$missing" ] || bad "ufw: rules missing: $(echo $missing)"`,
      `  [ -n "$extra$missing" ] || ok "ufw: only $(echo $want_ufw | sed 's/ufw allow //g')"`,
      `fi`,
      `got_block=$(sed -n '/^${MARK_BEGIN}$/,/^${MARK_END}$/p' ${UFW_AFTER_RULES} 2>/dev/null)`,
      `[ "$got_block" = "$want_docker_user" ] && ok "DOCKER-USER: ${UFW_AFTER_RULES}" || bad "DOCKER-USER: the block in ${UFW_AFTER_RULES} is missing or was changed"`,
      `live=$(iptables -S DOCKER-USER 2>/dev/null)`,
      `lacking=$(echo "$want_docker_user" | grep '^-A ' | while IFS= read -r r; do echo "$live" | grep -qxF -- "$r" || echo "$r"; done)`,
      `[ -z "$lacking" ] && ok "DOCKER-USER: live chain" || bad "DOCKER-USER: live chain lacks: $(echo "$lacking" | tr '\\n' ';')"`,
    );
  }
  out.push(`[ "$drift" = 0 ] || exit ${DRIFT_EXIT}`);
  return out.join('\n') + '\n';
}
