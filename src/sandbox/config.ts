// Sandbox constants: the one place that says where the sandbox lives and which test hosts exist.
import { join } from 'node:path';

export const SANDBOX_STATE_DIR = process.env.BERTH_SANDBOX_STATE ?? '/var/lib/berth-sandbox';
export const SANDBOX_CACHE_DIR = process.env.BERTH_CACHE ?? '/var/cache/berth';
export const SANDBOX_STATUS_FILE = join(SANDBOX_STATE_DIR, 'status.json');
export const SANDBOX_SSH_KEY = join(SANDBOX_STATE_DIR, 'ssh', 'id_ed25519');
export const SANDBOX_CA_DIR = join(SANDBOX_STATE_DIR, 'ca');

/** Label on sandbox-owned images and networks. Containers inherit image labels, so it does NOT identify our containers. */
export const SANDBOX_LABEL = 'berth.sandbox=true';
/** Label key on the sandbox's own service containers (value: the service name); `sandbox:down` removes by it. */
export const SANDBOX_SERVICE_LABEL = 'berth.sandbox.service';
/** Label on locally built images: hash of the image directory's files. */
export const SANDBOX_HASH_LABEL = 'berth.sandbox.input-hash';

/**
 * Every machine the test lanes use (test/e2e/lanes.ts): h1–h3 the main lane, h4–h6 topology,
 * h7–h9 swarm, h10–h11 image transfer, h12 edge and CLI, h13 a fresh server for setup and
 * hardening, h14 backups and restores. Lanes run side by side, each on its own
 * machines, so one lane's faults (reboots, firewalls, a swarm) never reach another's.
 */
const DEFAULT_HOSTS = 'h1,h2,h3,h4,h5,h6,h7,h8,h9,h10,h11,h12,h13,h14';

/**
 * Test hosts: each is a machine (a privileged system container with its own sshd, dockerd,
 * iptables, filesystem and address). `hN` → container berth-sandbox-host-hN at 10.77.0.(10+N) on
 * the fleet network, reached from this machine only on loopback 127.0.1.N (ssh :22, edge :80/:443).
 * Hosts in SANDBOX_BARE_HOSTS start without Docker (as a new server does); `npm run setup` installs it.
 */
export const SANDBOX_HOSTS: readonly string[] = (process.env.BERTH_SANDBOX_HOSTS ?? DEFAULT_HOSTS)
  .split(',')
  .map((h) => h.trim())
  .filter(Boolean);
export const SANDBOX_BARE_HOSTS: readonly string[] = (process.env.BERTH_SANDBOX_BARE_HOSTS ?? 'h3,h6,h9,h13').split(',').map((h) => h.trim()).filter(Boolean);

/** The machines' own bridge network (fixed small subnet, clear of Docker's default pools). */
export const FLEET_NETWORK = { name: 'berth-sandbox-fleet', subnet: '10.77.0.0/24', gateway: '10.77.0.1' } as const;

/** Machine images (sandbox/images/machine, machine-docker). */
export const MACHINE_IMAGE = { bare: 'berth/machine:trixie', docker: 'berth/machine-docker:trixie' } as const;
/** Label on machine containers (value: host name). */
export const SANDBOX_MACHINE_LABEL = 'berth.sandbox.machine';

export interface SandboxHostSpec {
  name: string;
  /** Docker context name: berth-sandbox-<name>. */
  context: string;
  /** Where this machine reaches the host's sshd: 127.0.1.N port 22. */
  sshHost: string;
  sshPort: number;
  sshUser: string;
  /** ssh://root@127.0.1.N */
  sshTarget: string;
  /** The machine container on this machine's engine. */
  container: string;
  /** Named volume holding the machine's /var/lib/docker. */
  dockerVolume: string;
  /** The host's address on the fleet network (what other hosts, Pebble and challtestsrv use). */
  address: string;
  /** Loopback address on this machine where the host's published 80/443 answer. */
  edgeAddress: string;
  /** Machine image: bare hosts start without Docker. */
  image: string;
  bare: boolean;
}

export function hostSpec(name: string): SandboxHostSpec {
  const m = /^h([1-9]\d?)$/.exec(name);
  if (!m || Number(m[1]) > 99) throw new Error(`sandbox host name must look like h1, h2… h99, got ${JSON.stringify(name)}`);
  const n = Number(m[1]);
  const loop = `127.0.1.${n}`;
  const bare = SANDBOX_BARE_HOSTS.includes(name);
  const prefix = process.env.BERTH_SANDBOX_CONTEXT_PREFIX ?? 'berth-sandbox-';
  return {
    name,
    context: `${prefix}${name}`,
    sshHost: loop,
    sshPort: 22,
    sshUser: 'root',
    sshTarget: `ssh://root@${loop}`,
    container: `berth-sandbox-host-${name}`,
    dockerVolume: `berth-sandbox-host-${name}-docker`,
    address: `10.77.0.${10 + n}`,
    edgeAddress: loop,
    image: bare ? MACHINE_IMAGE.bare : MACHINE_IMAGE.docker,
    bare,
  };
}

/** This machine's network of the sandbox services (Pebble, challtestsrv, S3, registries); they join the fleet network too. */
export const SANDBOX_NETWORK = { name: 'berth', subnet: '172.30.0.0/24', gateway: '172.30.0.1' } as const;

export const PEBBLE = {
  container: 'berth-sandbox-pebble',
  challContainer: 'berth-sandbox-challtestsrv',
  image: 'berth/pebble:latest',
  directoryUrl: 'https://pebble:14000/dir',
  hostDirectoryUrl: 'https://127.0.0.1:14000/dir',
  managementUrl: 'https://127.0.0.1:15000',
  challManagementUrl: 'http://127.0.0.1:8055',
} as const;

/**
 * The stand-in for Cloudflare (sandbox/images/cfmock): its DNS API subset lego's cloudflare provider
 * calls, and the zone's authoritative DNS (UDP and TCP). A second Pebble validates DNS-01 against it,
 * so the shared Pebble and challtestsrv stay as every other test expects.
 */
export const CFMOCK = {
  container: 'berth-sandbox-cfmock',
  image: 'berth/cfmock:latest',
  zone: 'berth.test',
  /** The API token lego must present (a sandbox constant, not a secret). */
  token: 'berth-sandbox-cloudflare-token',
  /** From containers on network `berth` (the edge's CLOUDFLARE_BASE_URL). */
  apiBaseUrl: 'http://cfmock/client/v4',
  /** The zone's DNS from containers on `berth` (lego's propagation checks, Pebble's validation). */
  dnsServer: 'cfmock:53',
  /** The same DNS from this machine (UDP and TCP), for operator-side checks such as the pre-flight. */
  hostDnsServer: '127.0.0.1:8054',
  /** Test-side endpoints (state, set-a, clear-a) from this machine. */
  managementUrl: 'http://127.0.0.1:8056',
} as const;

export const PEBBLE_DNS = {
  container: 'berth-sandbox-pebble-dns',
  image: 'berth/pebble-dns:latest',
  directoryUrl: 'https://pebble-dns:14000/dir',
  hostDirectoryUrl: 'https://127.0.0.1:14001/dir',
  managementUrl: 'https://127.0.0.1:15001',
} as const;

export const S3 = {
  container: 'berth-sandbox-s3',
  image: 'berth/s3:latest',
  hostEndpoint: 'http://127.0.0.1:9000',
  /** Endpoint from containers on network `berth`. */
  networkEndpoint: 'http://s3:9000',
  bucket: 'berth-backups',
  region: 'us-east-1',
  accessKeyId: 'berthsandbox',
  secretAccessKey: 'berthsandboxsecret',
} as const;

/** The fleet's resolver (dnsmasq → this engine's DNS): what containers inside a host use (daemon.json "dns"). */
export const FLEET_DNS = { container: 'berth-sandbox-dns', image: 'berth/dns:latest', address: '10.77.0.2' } as const;

/** Docker Hub stand-in: hosts pull production names (traefik:v3.6.15, postgres:16, berth/testapp:v1…) through it. */
export const MIRROR = {
  container: 'berth-sandbox-mirror',
  image: 'berth/registry:latest',
  /** Push address from this machine. */
  address: '127.0.0.1:5001',
  /** What hosts' daemon.json names (alias on the fleet network). */
  networkUrl: 'http://mirror:5000',
} as const;

export const REGISTRY = {
  container: 'berth-sandbox-registry',
  image: 'berth/registry:latest',
  address: '127.0.0.1:5000',
  username: 'berth',
  password: 'berth-sandbox-password',
} as const;
