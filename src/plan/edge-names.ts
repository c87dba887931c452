// Names and paths of the edge that names.ts does not define yet (container-side Traefik paths,
// the edge services, origin-certificate files). Defined once here; candidates for names.ts.
import { EDGE_CERTS_DIR, EDGE_DIR, EDGE_SECRETS_DIR } from '../names.ts';

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

/** Traefik entry points (static config) and the container ports they listen on. */
export const ENTRYPOINT = { web: 'web', websecure: 'websecure', traefik: 'traefik' } as const;
export const CONTAINER_PORT = { web: 80, websecure: 443 } as const;

/** Where a secret file is visible inside a container that mounts it as a compose secret. */
export const runSecret = (name: string) => `/run/secrets/${name}`;
/** Where an accessory backup loop writes inside its container. */
export const BACKUP_MOUNT = '/backups';
/** Where the Litestream service reads its config. */
export const LITESTREAM_CONFIG_MOUNT = '/etc/litestream.yml';
