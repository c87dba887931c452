// Docker provisioning for `npm run setup -- <host>` (pure): one idempotent POSIX sh script that
// installs Docker Engine and the Compose v2 plugin with the host's package manager when missing,
// starts the daemon, and prints the versions found ON THE HOST (parsed by parseProvisionReport).

/** Oldest versions Berth relies on (compose `up --wait --wait-timeout`, engine API of `docker compose`). */
export const MIN_ENGINE = '20.10.0';
export const MIN_COMPOSE = '2.20.0';
export const PROVISION_MARK = 'berth-provision:';

export function renderDockerInstall(): string {
  return [
    'set -eu',
    'export DEBIAN_FRONTEND=noninteractive',
    'have() { command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; }',
    'if have; then',
    `  echo "${PROVISION_MARK} installed already"`,
    'elif command -v apt-get >/dev/null 2>&1; then',
    '  apt-get update -q >/dev/null',
    '  # Debian/Ubuntu packages: docker.io (the engine; on Debian trixie its CLI is docker-cli) and the',
    '  # Compose v2 plugin (docker-compose on Debian >= trixie, docker-compose-v2 on Ubuntu).',
    '  pkgs="docker.io"',
    '  for p in docker-cli docker-compose-v2; do apt-cache show "$p" >/dev/null 2>&1 && pkgs="$pkgs $p"; done',
    '  case "$pkgs" in *docker-compose-v2*) ;; *) pkgs="$pkgs docker-compose" ;; esac',
    '  apt-get install -y -q --no-install-recommends $pkgs >/dev/null',
    `  echo "${PROVISION_MARK} installed $pkgs"`,
    'else',
    '  echo "no apt-get on this host: install Docker Engine and the Compose v2 plugin, then rerun setup" >&2',
    '  exit 3',
    'fi',
    '# Start the daemon (and at boot): systemd where it runs, otherwise the init script.',
    'if ! docker info >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemctl enable --now docker >/dev/null 2>&1 || true; fi',
    'i=0',
    'until docker info >/dev/null 2>&1; do',
    '  i=$((i + 1))',
    '  [ "$i" -le 90 ] || { echo "dockerd does not answer after 90 s (see journalctl -u docker or /var/log/dockerd.log)" >&2; exit 4; }',
    '  [ "$i" -eq 15 ] && { service docker start >/dev/null 2>&1 || true; }',
    '  sleep 1',
    'done',
    `echo "${PROVISION_MARK} engine=$(docker version --format '{{.Server.Version}}') compose=$(docker compose version --short 2>/dev/null || echo none)"`,
    '',
  ].join('\n');
}

export interface ProvisionReport {
  installed: boolean;
  engine?: string;
  compose?: string;
}

export function parseProvisionReport(stdout: string): ProvisionReport {
  const lines = stdout.split('\n').filter((l) => l.startsWith(PROVISION_MARK));
  const installed = lines.some((l) => / installed (?!already)/.test(l));
  const v = lines.map((l) => /engine=(\S+) compose=(\S+)/.exec(l)).find(Boolean);
  return { installed, engine: v?.[1], compose: v?.[2] === 'none' ? undefined : v?.[2] };
}

/** Compare dotted versions by their leading numbers ("26.1.5+dfsg1" ≥ "20.10.0"; "v2.26.1-4" ≥ "2.20.0"). */
export function versionAtLeast(version: string, min: string): boolean {
  const nums = (s: string) => (/(\d+(?:\.\d+)*)/.exec(s)?.[1] ?? '0').split('.').map(Number);
  const a = nums(version);
  const b = nums(min);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** Problems with the versions a host reported (empty when both are new enough). */
export function versionProblems(r: ProvisionReport): string[] {
  const out: string[] = [];
  if (!r.engine) out.push('Docker Engine did not report a version');
  else if (!versionAtLeast(r.engine, MIN_ENGINE)) out.push(`Docker Engine ${r.engine} is older than ${MIN_ENGINE}`);
  if (!r.compose) out.push('the Docker Compose v2 plugin is missing (docker compose version failed on the host)');
  else if (!versionAtLeast(r.compose, MIN_COMPOSE)) out.push(`Docker Compose ${r.compose} is older than ${MIN_COMPOSE}`);
  return out;
}
