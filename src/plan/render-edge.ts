// renderEdge: the berth-edge compose project (Traefik + read-only Docker socket proxy) and
// Traefik's static config (PURE).
import type { EdgeConfig, Project } from '../config/schema.ts';
import {
  EDGE_ACME_DIR,
  EDGE_CERTS_DIR,
  EDGE_DYNAMIC_DIR,
  EDGE_PROJECT,
  LABEL,
  NETWORK,
  TRAEFIK_API_PORT,
  CONTAINER_PORT,
  EDGE_CA_ROOT,
  EDGE_STATIC_FILE,
  edgeSecretFile,
  ENTRYPOINT,
  SOCKET_NETWORK,
  SOCKET_PROXY_PORT,
  SOCKET_PROXY_SERVICE,
  TRAEFIK_ACME_DIR,
  TRAEFIK_ACME_STORAGE,
  TRAEFIK_CA_ROOT,
  TRAEFIK_CERTS_DIR,
  TRAEFIK_DYNAMIC_DIR,
  TRAEFIK_SERVICE,
  TRAEFIK_STATIC_FILE,
} from '../names.ts';
import { CLOUDFLARE_RANGES } from '../config/cloudflare-ips.ts';
import { collectEdgeSecretNames } from '../config/secrets.ts';
import { dnsCredentials, dnsResolverEnv, durationSeconds } from '../config/dns-provider.ts';
import { EDGE_CONFIG_FILE } from './app-facts.ts';
import { hashFiles, sha256 } from './hash.ts';
import type { EdgeRender, RenderedFile } from './types.ts';
import { generatedHeader, quoted, sortedRecord, toYaml } from './yaml.ts';

export const LETS_ENCRYPT = {
  production: 'https://acme-v02.api.letsencrypt.org/directory',
  staging: 'https://acme-staging-v02.api.letsencrypt.org/directory',
} as const;

/** How long Traefik keeps serving in-flight requests after SIGTERM. */
const GRACE = '10s';

const LOGGING = { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '5' } };

function caServer(edge: EdgeConfig): string {
  const a = edge.acme;
  if (a.ca === 'custom') return a.ca_server!;
  return a.ca_server ?? LETS_ENCRYPT[a.ca];
}

/** trusted_ips with "cloudflare" expanded to Cloudflare's published ranges (IPv4 and IPv6), without duplicates. */
export function trustedIps(edge: EdgeConfig): string[] {
  const out = edge.trusted_ips.flatMap((t) => (t === 'cloudflare' ? [...CLOUDFLARE_RANGES] : [t]));
  return [...new Set(out)];
}

export function renderTraefikStatic(edge: EdgeConfig): string {
  const trusted = trustedIps(edge);
  const forwarded = trusted.length ? { forwardedHeaders: { trustedIPs: trusted } } : {};
  const lifeCycle = { transport: { lifeCycle: { graceTimeOut: GRACE } } };
  const resolvers: Record<string, unknown> = {};
  for (const name of Object.keys(edge.acme.resolvers).sort()) {
    const r = edge.acme.resolvers[name]!;
    const acme: Record<string, unknown> = { email: edge.acme.email, storage: TRAEFIK_ACME_STORAGE, caServer: caServer(edge) };
    if (r.challenge === 'http-01') acme.httpChallenge = { entryPoint: ENTRYPOINT.web };
    else if (r.challenge === 'tls-alpn-01') acme.tlsChallenge = {};
    else {
      const p = r.propagation;
      const propagation = {
        ...(p?.disable_ans_checks ? { disableANSChecks: true } : {}),
        ...(p?.delay_before_checks ? { delayBeforeChecks: p.delay_before_checks } : {}),
      };
      acme.dnsChallenge = {
        provider: r.provider,
        ...(r.resolvers?.length ? { resolvers: [...r.resolvers] } : {}),
        ...(Object.keys(propagation).length ? { propagation } : {}),
      };
    }
    resolvers[name] = { acme };
  }
  const doc: Record<string, unknown> = {
    global: { checkNewVersion: false, sendAnonymousUsage: false },
    log: { level: edge.traefik.log_level },
    ...(edge.traefik.access_log ? { accessLog: {} } : {}),
    entryPoints: {
      [ENTRYPOINT.web]: { address: `:${CONTAINER_PORT.web}`, ...forwarded, ...lifeCycle },
      [ENTRYPOINT.websecure]: { address: `:${CONTAINER_PORT.websecure}`, ...forwarded, ...lifeCycle },
      // API and ping; published on 127.0.0.1 only (the deploy polls it over SSH).
      [ENTRYPOINT.traefik]: { address: `:${TRAEFIK_API_PORT}` },
    },
    ping: { entryPoint: ENTRYPOINT.traefik },
    api: { insecure: true, dashboard: false },
    providers: {
      // Traefik waits this long after a provider event before applying it (default 2s). Berth
      // renames one complete route file per cutover, so there is no burst to coalesce: 0s measured
      // route-written → API-confirmed at ~90 ms median / ~155 ms p95 here, against ~180 / ~240 ms at 100ms.
      providersThrottleDuration: '0s',
      file: { directory: TRAEFIK_DYNAMIC_DIR, watch: true },
      docker: {
        endpoint: `tcp://${SOCKET_PROXY_SERVICE}:${SOCKET_PROXY_PORT}`,
        exposedByDefault: false,
        network: NETWORK,
      },
    },
    ...(Object.keys(resolvers).length ? { certificatesResolvers: resolvers } : {}),
  };
  return toYaml(doc, generatedHeader(EDGE_CONFIG_FILE, `Traefik static config (${EDGE_STATIC_FILE}).`));
}

export { durationSeconds };

/** The DNS-01 resolvers of the edge, sorted by name. */
const dnsResolvers = (edge: EdgeConfig) =>
  Object.keys(edge.acme.resolvers)
    .sort()
    .map((n) => edge.acme.resolvers[n]!)
    .flatMap((r) => (r.challenge === 'dns-01' ? [r] : []));

/**
 * The environment of lego's DNS providers inside Traefik. One Traefik serves every resolver, so
 * their variables share one environment (a rule refuses resolvers that disagree on a variable).
 */
export function dnsProviderEnv(edge: EdgeConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const r of dnsResolvers(edge)) for (const [k, v] of Object.entries(dnsResolverEnv(r))) env[k] ??= v;
  return env;
}

export function renderEdgeCompose(edge: EdgeConfig): string {
  const tokens = dnsResolvers(edge).flatMap((r) => Object.values(dnsCredentials(r)));
  const uniqueTokens = [...new Set(tokens)].sort();
  const env: Record<string, string> = { ...dnsProviderEnv(edge) };
  if (edge.acme.ca_root) env.LEGO_CA_CERTIFICATES = TRAEFIK_CA_ROOT;

  const volumes = [
    `${EDGE_STATIC_FILE}:${TRAEFIK_STATIC_FILE}:ro`,
    `${EDGE_DYNAMIC_DIR}:${TRAEFIK_DYNAMIC_DIR}:ro`,
    `${EDGE_ACME_DIR}:${TRAEFIK_ACME_DIR}`,
    `${EDGE_CERTS_DIR}:${TRAEFIK_CERTS_DIR}:ro`,
    ...(edge.acme.ca_root ? [`${EDGE_CA_ROOT}:${TRAEFIK_CA_ROOT}:ro`] : []),
  ];
  const labels = sortedRecord({ [LABEL.managed]: 'true', [LABEL.role]: 'edge' });
  // The static config is a bind-mounted file compose cannot see: its hash in a label makes compose
  // recreate Traefik when (and only when) it changes.
  const staticHash = sha256(renderTraefikStatic(edge)).slice(0, 16);
  const traefik: Record<string, unknown> = {
    image: edge.traefik.image,
    command: [`--configFile=${TRAEFIK_STATIC_FILE}`],
    ports: [
      quoted(`${edge.entrypoints.http}:${CONTAINER_PORT.web}`),
      quoted(`${edge.entrypoints.https}:${CONTAINER_PORT.websecure}`),
      quoted(`127.0.0.1:${TRAEFIK_API_PORT}:${TRAEFIK_API_PORT}`),
    ],
    ...(Object.keys(env).length ? { environment: sortedRecord(env) } : {}),
    ...(uniqueTokens.length ? { secrets: uniqueTokens } : {}),
    volumes,
    labels: sortedRecord({ ...labels, 'berth.static-config-hash': staticHash }),
    networks: [NETWORK, SOCKET_NETWORK],
    depends_on: [SOCKET_PROXY_SERVICE],
    healthcheck: {
      test: ['CMD', 'traefik', 'healthcheck', '--ping'],
      interval: '5s',
      timeout: '3s',
      retries: 10,
      start_period: '5s',
      start_interval: '1s',
    },
    restart: 'unless-stopped',
    stop_grace_period: '15s',
    logging: LOGGING,
  };
  const socketProxy = {
    image: edge.socket_proxy.image,
    environment: {
      CONTAINERS: quoted('1'),
      EVENTS: quoted('1'),
      NETWORKS: quoted('1'),
      PING: quoted('1'),
      POST: quoted('0'),
      SERVICES: quoted('0'),
      TASKS: quoted('0'),
      VERSION: quoted('1'),
    },
    volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro'],
    labels,
    networks: [SOCKET_NETWORK],
    restart: 'unless-stopped',
    logging: LOGGING,
  };
  const doc: Record<string, unknown> = {
    name: EDGE_PROJECT,
    services: { [TRAEFIK_SERVICE]: traefik, [SOCKET_PROXY_SERVICE]: socketProxy },
    ...(uniqueTokens.length ? { secrets: Object.fromEntries(uniqueTokens.map((t) => [t, { file: edgeSecretFile(t) }])) } : {}),
    networks: {
      [NETWORK]: { external: true },
      // Only Traefik and the proxy are on it, and it has no route out.
      [SOCKET_NETWORK]: { internal: true },
    },
  };
  return toYaml(doc, generatedHeader(EDGE_CONFIG_FILE, `Compose project ${EDGE_PROJECT}: Traefik and the read-only Docker socket proxy.`));
}

export function renderEdge(project: Project): EdgeRender {
  const files: RenderedFile[] = [
    { path: 'compose.yml', content: renderEdgeCompose(project.edge) },
    { path: 'traefik.yml', content: renderTraefikStatic(project.edge) },
  ];
  return { files, configHash: hashFiles(files), secrets: collectEdgeSecretNames(project.edge) };
}
