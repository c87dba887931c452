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

/** Test hosts. Adding a second host is one entry here ("h2" → sshd on 127.0.0.1:2223). */
export const SANDBOX_HOSTS: readonly string[] = (process.env.BERTH_SANDBOX_HOSTS ?? 'h1')
  .split(',')
  .map((h) => h.trim())
  .filter(Boolean);

export interface SandboxHostSpec {
  name: string;
  /** Docker context name: berth-sandbox-<name>. */
  context: string;
  sshHost: string;
  sshPort: number;
  sshUser: string;
  /** ssh://root@127.0.0.1:2222 */
  sshTarget: string;
  dir: string;
  sshdLog: string;
}

export function hostSpec(name: string): SandboxHostSpec {
  const m = /^h(\d+)$/.exec(name);
  if (!m) throw new Error(`sandbox host name must look like h1, h2…, got ${JSON.stringify(name)}`);
  const port = 2221 + Number(m[1]);
  const dir = join(SANDBOX_STATE_DIR, name);
  return {
    name,
    context: `berth-sandbox-${name}`,
    sshHost: '127.0.0.1',
    sshPort: port,
    sshUser: 'root',
    sshTarget: `ssh://root@127.0.0.1:${port}`,
    dir,
    sshdLog: join(dir, 'sshd.log'),
  };
}

/** Shared external Docker network used by the edge, apps and the sandbox's ACME CA. */
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

export const REGISTRY = {
  container: 'berth-sandbox-registry',
  image: 'berth/registry:latest',
  address: '127.0.0.1:5000',
  username: 'berth',
  password: 'berth-sandbox-password',
} as const;
