// Every Docker-side and host-side name Berth uses, defined once so that rendering, deploying,
// observing and tests agree. Nothing else in the code base spells these out.

export type Colour = 'blue' | 'green';
export const COLOURS: readonly Colour[] = ['blue', 'green'];
export const otherColour = (c: Colour): Colour => (c === 'blue' ? 'green' : 'blue');

/** The one external network shared by the edge and every app. */
export const NETWORK = 'berth';

export const EDGE_PROJECT = 'berth-edge';
export const appProject = (app: string) => `berth-${app.replace(/_/g, '-')}`;
export const webService = (colour: Colour) => `web-${colour}`;
export const LITESTREAM_SERVICE = 'litestream';
/**
 * The one-off service the release command runs in: the web image, env, secrets and volumes, on the
 * app's own network only (joining the shared network too cost ~150 ms per run). Profile "release",
 * so `docker compose up` never starts it.
 */
export const RELEASE_SERVICE = 'release';
export const backupService = (accessory: string) => `${accessory}-backup`;
/** Network alias of a colour on the shared network: what Traefik's file provider points at. */
export const webAlias = (app: string, colour: Colour) => `${app.replace(/_/g, '-')}-web-${colour}`;

export const LABEL = {
  managed: 'berth.managed',
  app: 'berth.app',
  colour: 'berth.colour',
  release: 'berth.release',
  configHash: 'berth.config-hash',
  role: 'berth.role',
  /** The secret set a container mounts (its id), so a no-op can tell a container's values from the wanted ones. */
  secrets: 'berth.secrets',
} as const;

/** Host paths. */
export const HOST_ROOT = '/var/lib/berth';
export const EDGE_DIR = `${HOST_ROOT}/edge`;
export const EDGE_DYNAMIC_DIR = `${EDGE_DIR}/dynamic`;
export const EDGE_ACME_DIR = `${EDGE_DIR}/acme`;
export const EDGE_CERTS_DIR = `${EDGE_DIR}/certs`;
export const EDGE_SECRETS_DIR = '/etc/berth/edge';
export const appDir = (app: string) => `${HOST_ROOT}/apps/${app}`;
export const releasesDir = (app: string) => `${appDir(app)}/releases`;
export const releaseDir = (app: string, release: string) => `${releasesDir(app)}/${release}`;
export const lockDir = (app: string) => `${appDir(app)}/lock`;
export const backupsDir = (app: string) => `${HOST_ROOT}/backups/${app}`;
/** Host folder of one accessory's pg_dump files: `backup.dir` when set, else under backupsDir. */
export const dumpDir = (app: string, accessory: string, dir?: string) => dir ?? `${backupsDir(app)}/${accessory}`;
export const appSecretsDir = (app: string) => `/etc/berth/${app}`;
export const appSecretsEnv = (app: string) => `${appSecretsDir(app)}/secrets.env`;
/** Where a rollback's upload waits for its switch (the route, the live env file, litestream.yml); root only. */
export const rollbackStageDir = (app: string) => `${appSecretsDir(app)}/rollback-stage`;
/** Before secrets were per release (one file per secret for the whole app): still read by older releases. */
export const appSecretFile = (app: string, secret: string) => `${appSecretsDir(app)}/files/${secret}`;
/**
 * Secret sets: one directory per set of values, named by a hash of its content and never rewritten
 * with other values, so a release (its containers mount its set) keeps its own values whatever
 * another deploy or rollback writes (src/plan/secret-sets.ts).
 */
export const appSecretSetsDir = (app: string) => `${appSecretsDir(app)}/sets`;
export const appSecretSetDir = (app: string, set: string) => `${appSecretSetsDir(app)}/${set}`;
export const dynamicConfigFile = (app: string) => `${EDGE_DYNAMIC_DIR}/${app}.yml`;
/** An accessory's `files` on its host (uploaded with each release, mounted read-only): the container path mirrored. */
export const accessoryFilesDir = (app: string, accessory: string) => `${appDir(app)}/accessory-files/${accessory}`;
export const accessoryFileHostPath = (app: string, accessory: string, target: string) => `${accessoryFilesDir(app, accessory)}${target}`;

/** Traefik names. */
export const traefikService = (app: string) => `${app.replace(/_/g, '-')}`;
export const TRAEFIK_API_PORT = 8080;

export const contextFor = (host: string, configured?: string) => configured ?? `berth-${host}`;
/** Each release keeps the secret values it was deployed with, so a rollback restores them too. */
export const releaseSecretsEnv = (app: string, release: string) => `${appSecretsDir(app)}/releases/${release}.env`;
export const currentFile = (app: string) => `${appDir(app)}/current.json`;
export const litestreamConfigPath = (app: string) => `${appDir(app)}/litestream.yml`;
/**
 * Asset bridging (asset_path): `extracted/<tag>/` holds a release's own assets copied out of its
 * image; `volumes/<tag>/` is what that release's colours mount: the kept releases' assets merged
 * (hard links), its own last. Keyed by image tag: the compose file names it before the release id exists.
 */
export const assetsDir = (app: string) => `${appDir(app)}/assets`;
export const assetsVolumeDir = (app: string, tag: string) => `${assetsDir(app)}/volumes/${tag}`;
export const retirePidFile = (app: string, colour: Colour) => `${appDir(app)}/retire-${colour}.pid`;
/** Audit trail: one JSON line per deploy, rollback and restore on this host. */
export const historyFile = (app: string) => `${appDir(app)}/history.jsonl`;

// ---------------------------------------------------------------- edge internals
export const TRAEFIK_SERVICE = 'traefik';
export const SOCKET_PROXY_SERVICE = 'socket-proxy';
/** Private network between Traefik and the socket proxy (internal: no route out). */
export const SOCKET_NETWORK = 'socket';
export const SOCKET_PROXY_PORT = 2375;

/** Paths inside the Traefik container. */
export const TRAEFIK_ETC = '/etc/traefik';
export const TRAEFIK_STATIC_FILE = `${TRAEFIK_ETC}/traefik.yml`;
export const TRAEFIK_DYNAMIC_DIR = `${TRAEFIK_ETC}/dynamic`;
export const TRAEFIK_ACME_DIR = `${TRAEFIK_ETC}/acme`;
export const TRAEFIK_ACME_STORAGE = `${TRAEFIK_ACME_DIR}/acme.json`;
export const TRAEFIK_CERTS_DIR = `${TRAEFIK_ETC}/certs`;
export const TRAEFIK_CA_ROOT = `${TRAEFIK_ETC}/ca/root.pem`;

/** Host paths of the edge beyond names.ts: its static config, the custom ACME CA root (tests). */
export const EDGE_STATIC_FILE = `${EDGE_DIR}/traefik.yml`;
export const EDGE_CA_ROOT = `${EDGE_DIR}/ca/root.pem`;
export const edgeSecretFile = (name: string) => `${EDGE_SECRETS_DIR}/${name}`;

/** Origin certificate of an app (tls.mode origin-certificate): the deploy copies cert and key here. */
export const originCertHostFiles = (app: string) => ({ cert: `${EDGE_CERTS_DIR}/${app}.crt`, key: `${EDGE_CERTS_DIR}/${app}.key` });
export const originCertTraefikFiles = (app: string) => ({ cert: `${TRAEFIK_CERTS_DIR}/${app}.crt`, key: `${TRAEFIK_CERTS_DIR}/${app}.key` });

/**
 * One certificate for the fleet: the issuer host's certificate copied to the app's other hosts, and the
 * file-provider entry pointing at it ("." cannot occur in an app name, so it never clashes with dynamic/<app>.yml).
 */
export const fleetCertHostFiles = (app: string) => ({ cert: `${EDGE_CERTS_DIR}/${app}.fleet.crt`, key: `${EDGE_CERTS_DIR}/${app}.fleet.key` });
export const fleetCertTraefikFiles = (app: string) => ({ cert: `${TRAEFIK_CERTS_DIR}/${app}.fleet.crt`, key: `${TRAEFIK_CERTS_DIR}/${app}.fleet.key` });
export const fleetCertDynamicFile = (app: string) => `${EDGE_DYNAMIC_DIR}/${app}.certificate.yml`;
export const EDGE_ACME_STORAGE = `${EDGE_ACME_DIR}/acme.json`;

/** Traefik entry points (static config) and the container ports they listen on. */
export const ENTRYPOINT = { web: 'web', websecure: 'websecure', traefik: 'traefik' } as const;
export const CONTAINER_PORT = { web: 80, websecure: 443 } as const;

/** Where a secret file is visible inside a container that mounts it as a compose secret. */
export const runSecret = (name: string) => `/run/secrets/${name}`;
/** Where an accessory backup loop writes inside its container. */
export const BACKUP_MOUNT = '/backups';
/** Where the Litestream service reads its config. */
export const LITESTREAM_CONFIG_MOUNT = '/etc/litestream.yml';

// ---------------------------------------------------------------- data safety
/** Litestream's control socket inside the replicator container (litestream.yml `socket.path`). */
export const LITESTREAM_SOCKET = '/var/run/litestream.sock';

/** Per-app directory on the host for backup records (not the pg_dump directory, see backupsDir). */
export const appBackupDir = (app: string) => `${appDir(app)}/backups`;
/** The journal of a backup:restore running or cut off on this host (src/exec/restore-job.ts). */
export const restoreJournalDir = (app: string) => `${appDir(app)}/restore`;
/** Result of the last `backup:verify`, read by `backup:status`. */
export const verifyRecordFile = (app: string) => `${appBackupDir(app)}/verify.json`;
/** Copies of the live databases taken by `backup:restore` before it replaces them. */
export const safetyCopiesDir = (app: string) => `${appBackupDir(app)}/safety`;
/** Restore points taken by the deploy pre-flight (sqlite3 .backup copies + point.json). */
export const restorePointsDir = (app: string) => `${appBackupDir(app)}/restore-points`;
/** How many pre-flight restore points are kept on the host. */
export const RESTORE_POINTS_KEPT = 3;

/** Where a throwaway container sees host directories while verifying or restoring. */
export const SAFETY_MOUNT = '/berth-safety';
export const RESTORE_POINT_MOUNT = '/berth-restore-point';

/** "s3://bucket/some/prefix" → { bucket, prefix } (prefix without leading/trailing slashes). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(\/.*)?$/.exec(url);
  if (!m) throw new Error(`not an S3 URL: ${url}`);
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/**
 * Replica path of one database: `<prefix>/<app>/<database path without its leading "/">`. The app
 * name keeps an app folder copied for staging (same replica URL, another domain) off the original's
 * replica, and the full path keeps two databases with one file name in different folders apart:
 * two writers on one replica corrupt it. (Config rule uniqueReplicaPaths refuses any overlap left.)
 */
export function replicaPath(app: string, replicaUrl: string, db: string): string {
  const { prefix } = parseS3Url(replicaUrl);
  const rest = `${app}/${db.replace(/^\/+/, '')}`;
  return prefix ? `${prefix}/${rest}` : rest;
}

// ---------------------------------------------------------------- swarm clusters (src/engine/swarm)
/** Attachable overlay network between the edge (Traefik on the managers) and every cluster app's web tasks. */
export const CLUSTER_NETWORK = 'berth-cluster';
/** The stack of a cluster app is named like its compose project, so volumes are `berth-<app>_<volume>` on both engines. */
export const appStack = appProject;
/** A service of a stack as Swarm names it. */
export const stackService = (app: string, service: string) => `${appStack(app)}_${service}`;
/**
 * The app's own overlay network (the stack's `default`), named apart from its compose project's
 * `berth-<app>_default`, so an app moving from per host to the cluster runs both side by side.
 */
export const appStackNetwork = (app: string) => `${appStack(app)}_swarm`;
/** The one-off stack that runs a release command (a replicated job) before the new colour starts. */
export const releaseStack = (app: string) => `${appStack(app)}-release`;
export const RELEASE_JOB_SERVICE = 'release';
/** Traefik's load-balancer service of one colour, defined by the swarm provider from deploy.labels. */
export const swarmTraefikService = (app: string, colour: Colour) => `${traefikService(app)}-${colour}`;
/** Node labels Berth sets (setup): which hosts.json host a node is, its cluster, and one per role. */
export const NODE_LABEL = {
  host: 'berth.host',
  cluster: 'berth.cluster',
  role: (role: string) => `berth.role.${role}`,
  rolePrefix: 'berth.role.',
} as const;
/** File-provider config every cluster edge holds: the servers transport the swarm services use (short dial timeout). */
export const clusterTransportFile = `${EDGE_DYNAMIC_DIR}/berth.cluster.yml`;
export const CLUSTER_TRANSPORT = 'berth-cluster';
/** Host-local name of a colour's direct route on Traefik's API port (127.0.0.1 only): probes a colour before it is switched to. */
export const colourProbeHost = (app: string, colour: Colour) => `${colour}.${app.replace(/_/g, '-')}.berth.internal`;

// ---------------------------------------------------------------- maintenance mode
/**
 * Maintenance mode: a page server (HAProxy from the socket proxy's image, already on every host)
 * in its own compose project, its files, its route file beside the app's, and the state file that
 * status, observe and deploy read. "_" never occurs in appProject() or traefikService() names
 * (they map it to "-"), so these names cannot collide with another app's.
 */
export const maintenanceDir = (app: string) => `${appDir(app)}/maintenance`;
export const maintenanceStateFile = (app: string) => `${appDir(app)}/maintenance.json`;
export const maintenanceRouteFile = (app: string) => `${EDGE_DYNAMIC_DIR}/${app}.maintenance.yml`;
export const maintenanceProject = (app: string) => `berth-maintenance_${app.replace(/_/g, '-')}`;
/** Traefik name prefix of the maintenance routers and service. */
export const maintenanceTraefikName = (app: string) => `${traefikService(app)}_maintenance`;
/** The page server's alias on network `berth` (web aliases always end in -web-<colour>). */
export const maintenanceAlias = (app: string) => `${app.replace(/_/g, '-')}-maintenance`;
export const MAINTENANCE_SERVICE = 'page';
export const MAINTENANCE_PORT = 8080;
/** Where the page server sees maintenanceDir. */
export const MAINTENANCE_MOUNT = '/berth';
