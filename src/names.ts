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
export const appSecretsDir = (app: string) => `/etc/berth/${app}`;
export const appSecretsEnv = (app: string) => `${appSecretsDir(app)}/secrets.env`;
export const appSecretFile = (app: string, secret: string) => `${appSecretsDir(app)}/files/${secret}`;
export const dynamicConfigFile = (app: string) => `${EDGE_DYNAMIC_DIR}/${app}.yml`;

/** Traefik names. */
export const traefikService = (app: string) => `${app.replace(/_/g, '-')}`;
export const TRAEFIK_API_PORT = 8080;

export const contextFor = (host: string, configured?: string) => configured ?? `berth-${host}`;
/** Each release keeps the secret values it was deployed with, so a rollback restores them too. */
export const releaseSecretsEnv = (app: string, release: string) => `${appSecretsDir(app)}/releases/${release}.env`;
export const currentFile = (app: string) => `${appDir(app)}/current.json`;
export const litestreamConfigPath = (app: string) => `${appDir(app)}/litestream.yml`;
export const retirePidFile = (app: string, colour: Colour) => `${appDir(app)}/retire-${colour}.pid`;
