// Server hardening for `npm run setup -- <host> --harden` (pure): one idempotent POSIX sh script
// from the host's `hardening` settings in hosts.json. UFW allows only SSH, HTTP and HTTPS; because
// Docker-published ports bypass UFW's INPUT chain, the DOCKER-USER chain drops everything that
// arrives on the public interface for a container unless it is for 80/443. fail2ban guards sshd;
// SSH logins become key-only.
import type { HostConfig } from '../config/schema.ts';

const MARK_BEGIN = '# BEGIN berth DOCKER-USER';
const MARK_END = '# END berth DOCKER-USER';

export const SSHD_DROPIN = '/etc/ssh/sshd_config.d/10-berth.conf';
export const FAIL2BAN_JAIL = '/etc/fail2ban/jail.d/berth.conf';

export function renderHardening(host: HostConfig, sshPort = 22): string {
  const h = { ufw: true, fail2ban: true, ssh_key_only: true, ...host.hardening };
  const parts: string[] = ['set -eu', 'export DEBIAN_FRONTEND=noninteractive', 'need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q "$2"; }; }'];
  if (h.ssh_key_only) {
    parts.push(
      `# Key-only SSH (checked with sshd -t before reloading, so a bad file never locks us out).`,
      `mkdir -p /etc/ssh/sshd_config.d`,
      `printf '%s\\n' 'PasswordAuthentication no' 'KbdInteractiveAuthentication no' 'PermitRootLogin prohibit-password' > ${SSHD_DROPIN}`,
      `sshd -t && { systemctl reload ssh 2>/dev/null || service ssh reload 2>/dev/null || true; }`,
    );
  }
  if (h.fail2ban) {
    parts.push(
      `need fail2ban fail2ban`,
      `mkdir -p /etc/fail2ban/jail.d`,
      `printf '%s\\n' '[sshd]' 'enabled = true' 'port = ${sshPort}' 'maxretry = 5' 'bantime = 1h' > ${FAIL2BAN_JAIL}`,
      `systemctl enable --now fail2ban 2>/dev/null || service fail2ban restart || true`,
    );
  }
  if (h.ufw) {
    parts.push(
      `need ufw ufw`,
      `ufw default deny incoming >/dev/null`,
      `ufw default allow outgoing >/dev/null`,
      ...[`${sshPort}/tcp`, '80/tcp', '443/tcp'].map((p) => `ufw allow ${p} >/dev/null`),
      `# Docker-published ports skip UFW: filter them in DOCKER-USER on the public interface.`,
      `ext=$(ip route show default | awk '{print $5; exit}')`,
      `rules=/etc/ufw/after.rules`,
      `sed -i '/^${MARK_BEGIN}$/,/^${MARK_END}$/d' "$rules"`,
      `cat >> "$rules" <<EOF`,
      MARK_BEGIN,
      `*filter`,
      `:DOCKER-USER - [0:0]`,
      `-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
      `-A DOCKER-USER -i $ext -p tcp -m multiport --dports 80,443 -j RETURN`,
      `-A DOCKER-USER -i $ext -j DROP`,
      `COMMIT`,
      MARK_END,
      `EOF`,
      `ufw --force enable >/dev/null`,
      `ufw reload >/dev/null`,
    );
  }
  parts.push('echo hardened');
  return parts.join('\n') + '\n';
}
