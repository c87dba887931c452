// The runtime schema of every file an operator writes: hosts.json, shared/edge.yml and apps/<name>/app.yml.
// Objects are strict (an unknown key is an error: a typo must never be silently ignored), and the
// editor JSON Schemas in schema/ are generated from these definitions (scripts/schema.ts).
import { isIP } from 'node:net';
import { z } from 'zod';

const NAME = /^[a-z][a-z0-9_-]*$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

export const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h)$/, 'a duration such as "500ms", "5s", "2m" or "1h"')
  .describe('A duration: a whole number followed by ms, s, m or h.');

const name = (what: string) =>
  z.string().regex(NAME, `a ${what} name of lowercase letters, digits, "-" or "_", starting with a letter`);

const envName = z.string().regex(ENV_NAME, 'an environment variable name in UPPER_SNAKE_CASE');

const envValue = z.union([z.string(), z.number(), z.boolean()]);

const validPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;

/** "127.0.0.1:5432:5432" or "5432:5432": an IPv4 address (each part ≤ 255) and two ports in 1–65535. */
export function portBindingProblem(binding: string): string | undefined {
  if (!/^(\d{1,3}(\.\d{1,3}){3}:)?\d{1,5}:\d{1,5}$/.test(binding)) return undefined; // the regex reports it
  const parts = binding.split(':');
  const [ip, host, container] = parts.length === 3 ? parts : [undefined, parts[0], parts[1]];
  if (ip !== undefined && ip.split('.').some((o) => Number(o) > 255)) return `an IPv4 address whose parts are 0–255 (${ip} is not)`;
  for (const p of [host, container]) if (!validPort(Number(p))) return `ports from 1 to 65535 (${p} is out of range)`;
  return undefined;
}

/**
 * An image reference as Docker reads it: registry[:port]/path[:tag][@sha256:digest]. Never starting
 * with "-" (it is an argument of docker run / pull) and without shell or YAML syntax.
 */
const IMAGE_REF = /^[a-z0-9]+([._\/:-][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
const imageRef = (example: string) => z.string().regex(IMAGE_REF, `an image reference such as ${JSON.stringify(example)}`);

/**
 * A path inside a container that Berth also hands to host scripts and compose's `name:path` volume
 * syntax: absolute, letters, digits and . _ - + @ / only (no spaces, ":", "," or shell syntax), no "..".
 */
const containerPath = z
  .string()
  .regex(/^\/[A-Za-z0-9._@+\/-]*$/, 'an absolute container path of letters, digits and . _ - + @ / (no spaces, ":", "," or quotes)')
  .refine((p) => !p.split('/').includes('..'), 'an absolute container path without ".." segments');

/** The URL path of the health check: URL characters that carry no meaning in a shell word once quoted. */
const healthPath = z
  .string()
  .regex(/^\/[A-Za-z0-9._~%\/?=&+:@-]*$/, 'a URL path such as "/up" (letters, digits and . _ ~ % / ? = & + : @ -; no spaces, quotes, ";", "$" or backticks)');

/** A domain an app serves: a DNS name, or a wildcard "*.example.com" (one label; needs a DNS-01 resolver). */
const domainName = z
  .string()
  .regex(
    /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/,
    'a lowercase DNS name such as "example.com", or a wildcard such as "*.example.com"',
  );

/** A URL path prefix an app is served under: "/blog", "/api/v2" (it reaches a Traefik rule: no quotes, no "`"). */
const pathPrefix = z
  .string()
  .max(200)
  .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'a URL path prefix such as "/blog" (segments of letters, digits and . _ ~ -, no trailing "/")')
  .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'a path prefix without "." or ".." segments');

/** A size in bytes: a whole number, or "512k", "40m", "1g" (binary multiples). */
const byteSize = z.union([
  z.number().int().min(0),
  z.string().regex(/^\d+(b|k|m|g)$/i, 'a size in bytes, or a size such as "512k", "40m" or "1g"'),
]);

// ---------------------------------------------------------------- hosts.json

export const hostSchema = z
  .strictObject({
    ssh: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]*@[^\s@:'"`$;|&<>()\\]+(:\d{1,5})?$/, 'an SSH target "user@address" or "user@address:port"')
      .refine((t) => validPort(Number(/:(\d+)$/.exec(t)?.[1] ?? 22)), 'an SSH port from 1 to 65535')
      .describe('SSH target of the host: user@address[:port].'),
    identity_file: z
      .string()
      .regex(/^[^\x00-\x1f"]+$/, 'a file path without quotes or control characters')
      .optional()
      .describe('Private key for SSH, used by Berth and by its Docker context (default: the SSH agent and ~/.ssh/config).'),
    context: name('Docker context').optional().describe('Docker context Berth creates for this host (default "berth-<host>").'),
    roles: z.array(name('role')).default([]).describe('Roles of this host; apps may select hosts by role.'),
    labels: z.record(z.string(), z.string()).default({}).describe('Free-form labels, shown by status.'),
    public_ip: z.string().optional().describe('Address DNS records should point at (shown by status and plan).'),
    private_ip: z
      .string()
      .refine((a) => isIP(a) !== 0, 'an IPv4 or IPv6 address such as "10.0.0.2"')
      .optional()
      .describe("The host's address on the private network between your servers (Hetzner vSwitch, VPC…): where other hosts reach what this host serves privately (accessories, cluster traffic). Never a public address."),
    hardening: z
      .strictObject({
        ufw: z.boolean().default(true).describe('Allow only 22, 80 and 443 with UFW (and handle DOCKER-USER).'),
        fail2ban: z.boolean().default(true),
        ssh_key_only: z.boolean().default(true).describe('Disable SSH password login.'),
      })
      .optional(),
  })
  .describe('One server Berth deploys to.');

/** A Docker Swarm formed from hosts of hosts.json: apps opt in with `cluster: <name>` (src/engine/swarm). */
export const clusterSchema = z
  .strictObject({
    engine: z.literal('swarm').describe('The cluster engine: Docker Swarm mode, built into the Docker Engine every host runs.'),
    hosts: z.array(name('host')).min(1).describe('Hosts (from hosts) that are nodes of the swarm; each needs a private_ip (swarm traffic stays on the private network).'),
    managers: z
      .array(name('host'))
      .min(1)
      .describe(
        'Managers, from hosts: the first forms the swarm and keeps the release records; every manager runs the edge (Traefik with host-mode 80/443, reading the swarm through its socket proxy). Use 1, 3 or 5.',
      ),
    address_pool: z
      .string()
      .regex(/^\d{1,3}(\.\d{1,3}){3}\/(8|9|1\d|2[0-4])$/, 'an IPv4 range such as "10.200.0.0/16" (prefix /8 to /24)')
      .optional()
      .describe("Where the swarm's overlay networks take their /24 subnets (docker swarm init --default-addr-pool; Docker's default 10.0.0.0/8 overlaps many private networks). Only read when the swarm is formed."),
  })
  .describe('A Docker Swarm cluster.');

export const hostsFileSchema = z.strictObject({
  $schema: z.string().optional(),
  hosts: z.record(name('host'), hostSchema).refine((h) => Object.keys(h).length > 0, 'at least one host'),
  clusters: z.record(name('cluster'), clusterSchema).default({}).describe('Clusters: named sets of hosts with one engine (Docker Swarm); an app opts in with cluster: <name>.'),
});

// ---------------------------------------------------------------- shared/edge.yml

/** An IPv4 or IPv6 range in CIDR notation ("203.0.113.0/24", "2400:cb00::/32"). */
const cidr = z.string().refine((s) => {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  const v = m ? isIP(m[1]!) : 0;
  return !!m && v !== 0 && Number(m[2]) <= (v === 4 ? 32 : 128);
}, 'an IP range in CIDR notation such as "203.0.113.0/24" or "2400:cb00::/32", or "cloudflare"');

/** "host:port" of a DNS server (an IPv4 address, a bracketed IPv6 address or a host name). */
const dnsServer = z
  .string()
  .regex(/^([a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:]+\]):\d{1,5}$/i, 'a DNS server "address:port" such as "1.1.1.1:53"');

const acmeResolver = z.discriminatedUnion('challenge', [
  z.strictObject({ challenge: z.literal('http-01') }),
  z.strictObject({ challenge: z.literal('tls-alpn-01') }),
  z.strictObject({
    challenge: z.literal('dns-01'),
    provider: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'a lego DNS provider code such as "cloudflare", "route53" or "httpreq"')
      .describe("lego's DNS provider inside Traefik: a code from src/config/lego-dns-providers.json (cloudflare, route53, ovh, hetzner, httpreq…)."),
    token_secret: envName
      .optional()
      .describe('Cloudflare: the secret holding the API token (Zone:Read + DNS:Edit); the same as credentials: { CF_DNS_API_TOKEN: <secret> }.'),
    credentials: z
      .record(envName, envName)
      .optional()
      .describe(
        "lego's variable → the secret holding its value, e.g. { AWS_ACCESS_KEY_ID: AWS_KEY, AWS_SECRET_ACCESS_KEY: AWS_SECRET } (the variables per provider: src/config/lego-dns-providers.json). Each reaches lego as <VARIABLE>_FILE, a mounted file, never as a value in the container's environment.",
      ),
    api_base_url: z
      .url()
      .regex(/^https?:\/\/[^\s"'$`\\]+$/, 'an http(s) URL without spaces, quotes or "$"')
      .optional()
      .describe("Cloudflare only: API base URL (CLOUDFLARE_BASE_URL), to point lego at a stand-in, e.g. the sandbox's."),
    resolvers: z
      .array(dnsServer)
      .optional()
      .describe('DNS servers lego asks for the zone and checks propagation with, e.g. "1.1.1.1:53" (default: /etc/resolv.conf, then public resolvers).'),
    propagation: z
      .strictObject({
        disable_ans_checks: z.boolean().default(false).describe("Skip asking the zone's authoritative servers (only the resolvers above)."),
        delay_before_checks: duration.optional().describe('Wait this long before the first propagation check.'),
        timeout: duration.optional().describe('Give up waiting for the TXT record after this long (lego default 2m).'),
        polling_interval: duration.optional().describe('Time between propagation checks (lego default 2s).'),
      })
      .optional(),
  }),
]);

export const edgeSchema = z.strictObject({
  $schema: z.string().optional(),
  traefik: z
    .strictObject({
      image: z
        .string()
        .regex(/^traefik:v3\.(\d+)\.(\d+)$/, 'a pinned Traefik v3 image such as "traefik:v3.6.1"')
        .refine((img) => {
          const [, minor, patch] = /^traefik:v3\.(\d+)\.(\d+)$/.exec(img) ?? [];
          return Number(minor) > 6 || (Number(minor) === 6 && Number(patch) >= 1);
        }, 'Traefik 3.6.1 or later')
        .default('traefik:v3.6.15'),
      log_level: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
      access_log: z.boolean().default(false),
    })
    .default({ image: 'traefik:v3.6.15', log_level: 'INFO', access_log: false }),
  socket_proxy: z
    .strictObject({ image: imageRef('tecnativa/docker-socket-proxy:v0.4.1').default('tecnativa/docker-socket-proxy:v0.4.1') })
    .default({ image: 'tecnativa/docker-socket-proxy:v0.4.1' }),
  entrypoints: z
    .strictObject({
      http: z.number().int().min(1).max(65535).default(80),
      https: z.number().int().min(1).max(65535).default(443),
    })
    .default({ http: 80, https: 443 }),
  acme: z.strictObject({
    email: z.email('an e-mail address for the ACME account'),
    ca: z.enum(['production', 'staging', 'custom']).default('production').describe("Let's Encrypt production or staging, or a custom CA (tests)."),
    ca_server: z.url().optional().describe('ACME directory URL, required when ca is "custom".'),
    ca_root: z.string().optional().describe('PEM file (relative to shared/) of the custom CA directory root, trusted by Traefik.'),
    preflight: z
      .strictObject({
        check: z
          .enum(['refuse', 'warn', 'off'])
          .default('refuse')
          .describe("Before a deploy of an HTTP-01/TLS-ALPN-01 app: does each domain resolve to the host's public_ip? refuse stops the deploy (before any order can spend the CA's failed-validation limit)."),
        dns_server: dnsServer.optional().describe('DNS server asked, "address:port" (default: the system resolver).'),
      })
      .default({ check: 'refuse' }),
    resolvers: z
      .record(name('resolver'), acmeResolver)
      .default({ letsencrypt: { challenge: 'http-01' } })
      .describe('Certificate resolvers apps may name in tls.resolver.'),
  }),
  trusted_ips: z
    .array(z.union([z.literal('cloudflare'), cidr]))
    .default([])
    .describe(
      'Sources whose X-Forwarded-* headers Traefik trusts: CIDR ranges, and "cloudflare" for Cloudflare\'s published IPv4 and IPv6 ranges (src/config/cloudflare-ips.ts). Others get their claims replaced by their own address.',
    ),
  secrets: z.array(envName).default([]).describe('Secret names used by the edge (e.g. a DNS-01 token).'),
});

// ---------------------------------------------------------------- apps/<name>/app.yml

const healthcheck = z.strictObject({
  path: healthPath.default('/up'),
  interval: duration.default('2s'),
  timeout: duration.default('2s'),
  retries: z.number().int().min(1).default(15),
  start_period: duration.default('5s'),
  start_interval: duration
    .default('100ms')
    .describe("Check this often during start_period (Docker's start_interval), so a colour that boots fast is switched to at once instead of after a whole interval. Each check is a process started in the container (~50 ms of the engine's CPU); checks stop at the first success."),
  command: z.string().optional().describe('Override the check command (default: curl the path on the container port).'),
});

const buildSchema = z.strictObject({
  context: z.string().default('.').describe('Build context, relative to the app folder.'),
  dockerfile: z.string().default('Dockerfile'),
  args: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a build argument name (letters, digits, "_")'), z.string()).default({}),
  on: z.enum(['local', 'host']).default('local').describe('"local": build here and push (or, with registry: none, ship the missing layers over SSH); "host": build on the host engine, no registry.'),
});

const registrySchema = z.strictObject({
  // Both are arguments of `docker login`: never a flag, no spaces.
  server: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/, 'a registry address such as "ghcr.io" or "registry.example.com:5000"')
    .describe('Registry address, e.g. ghcr.io or docker.io.'),
  username: z.string().regex(/^[A-Za-z0-9_.@+][A-Za-z0-9_.@+-]*$/, 'a registry user name (letters, digits, "_", ".", "@", "+", "-"; not starting with "-")'),
  password_secret: envName.describe('Secret holding the registry password or token.'),
});

const tlsSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('acme'),
    resolver: name('resolver').default('letsencrypt').describe('A resolver from shared/edge.yml acme.resolvers.'),
  }),
  z.strictObject({
    mode: z.literal('origin-certificate').describe('Cloudflare Full (strict): serve a Cloudflare origin certificate.'),
    cert_file: z.string().describe('PEM certificate, relative to the app folder.'),
    key_secret: envName.describe('Secret holding the PEM private key.'),
  }),
  z.strictObject({
    mode: z
      .literal('self-signed')
      .describe("Cloudflare Full: HTTPS at the origin with Traefik's self-signed certificate (Cloudflare encrypts to the origin without verifying it)."),
  }),
  z.strictObject({ mode: z.literal('none').describe('Cloudflare Flexible: plain HTTP at the origin (TLS terminated by e.g. Cloudflare).') }),
]);

const volumes = z
  .record(name('volume'), containerPath)
  .default({})
  .describe('Named volume → container path.');

const backupSchema = z.strictObject({
  schedule: z
    .string()
    .regex(/^(daily|hourly|([01]\d|2[0-3]):[0-5]\d|every:\d+(s|m|h))$/, '"daily", "hourly", a daily time "HH:MM" or an interval "every:<N>s|m|h"')
    .default('daily')
    .describe('When pg_dump runs: "daily" (00:00), "hourly", a daily time "HH:MM" (in `timezone`) or a fixed interval "every:30m" (tests use "every:2s").'),
  timezone: z
    .string()
    .regex(/^(host|UTC|[A-Z][A-Za-z_]+(\/[A-Za-z0-9_+-]+){1,2})$/, '"host" (the server\'s own clock, like cron), "UTC" or a zone such as "Europe/Berlin"')
    .default('host')
    .describe('Time zone of "daily" and "HH:MM": "host" (the server\'s /etc/localtime, as cron would), "UTC", or an IANA zone from the host\'s /usr/share/zoneinfo.'),
  dir: z
    .string()
    .regex(/^\/(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._\/-]+$/, 'an absolute host path of letters, digits, ".", "_", "-" and "/" without ".." segments, e.g. "/opt/backups/postgres"')
    .refine((d) => !d.endsWith('/') && d.split('/').length > 2, 'a folder below the root, e.g. "/opt/backups/postgres" (no trailing "/")')
    .optional()
    .describe('Host folder for the dumps (default /var/lib/berth/backups/<app>/<accessory>).'),
  keep: z.number().int().min(1).default(7).describe('How many dumps to keep.'),
});

/** A file on the operator machine, relative to the app folder (no control characters or quotes). */
const accessoryFile = z.string().regex(/^[^\x00-\x1f"'`$\\]+$/, 'a file path relative to the app folder, without quotes, "$" or control characters');

/** Hosts of one process: `hosts` and/or `roles` (hosts.json), like the app's own keys. */
const placement = {
  hosts: z.array(name('host')).optional().describe("Hosts from hosts.json running this process (default: the app's hosts)."),
  roles: z.array(name('role')).optional().describe('Run it on every host having one of these roles.'),
};

const resourcesSchema = z.strictObject({
  memory: z.string().regex(/^\d+(b|k|m|g)$/i, 'a size such as "512m" or "1g"').optional(),
  cpus: z.number().positive().optional(),
});

const accessorySchema = z.strictObject({
  image: imageRef('postgres:16'),
  port: z
    .string()
    .regex(/^(\d{1,3}(\.\d{1,3}){3}:)?\d{1,5}:\d{1,5}$/, 'a port binding "127.0.0.1:5432:5432"')
    .superRefine((b, ctx) => {
      const problem = portBindingProblem(b);
      if (problem) ctx.addIssue({ code: 'custom', message: `a port binding "127.0.0.1:5432:5432" with ${problem}` });
    })
    .optional()
    .describe('Published port; bind it to 127.0.0.1 unless it must be public.'),
  volumes,
  env: z.record(envName, envValue).default({}),
  secrets: z.array(envName).default([]).describe('Mounted as files; NAME_FILE points at each.'),
  command: z.string().optional(),
  backup: backupSchema.optional().describe('Scheduled pg_dump (postgres images only).'),
  healthcheck: z.strictObject({ command: z.string(), interval: duration.default('2s'), retries: z.number().int().min(1).default(30) }).optional(),
  // Placement (Kamal's keys): default the app's hosts. A stateful accessory (volumes or backup) lives on one host.
  host: name('host').optional().describe('Run it on this host (from hosts.json) only, e.g. a database server; the app reaches it over the private network (private_ip).'),
  hosts: z.array(name('host')).optional().describe('Run it on these hosts (default: the app\'s hosts).'),
  roles: z.array(name('role')).optional().describe('Run it on every host having one of these roles.'),
  files: z
    .record(containerPath, accessoryFile)
    .optional()
    .describe("Container path → a file on this machine (relative to the app folder) that Berth uploads to the accessory's host and mounts read-only, e.g. an init script (Kamal's files)."),
});

const litestreamSchema = z.strictObject({
  image: imageRef('litestream/litestream:0.5.17').default('litestream/litestream:0.5.17'),
  databases: z.array(containerPath).min(1).describe('SQLite files to replicate (container paths on a declared volume).'),
  replica: z.strictObject({
    // The prefix becomes every replica's object path: plain segments only (no spaces, quotes or "..").
    url: z
      .string()
      .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]*(\/[A-Za-z0-9._-]+)*\/?$/, 'an S3 URL such as "s3://bucket/prefix" (bucket: lowercase letters, digits, "." and "-"; prefix: letters, digits, ".", "_", "-" and "/")')
      .refine((u) => !u.slice(5).split('/').includes('..'), 'an S3 URL without ".." segments'),
    endpoint: z.url().optional().describe('S3-compatible endpoint (B2, Spaces, MinIO…); omit for AWS.'),
    region: z.string().default('us-east-1'),
    force_path_style: z.boolean().default(false),
    access_key_id_secret: envName.default('LITESTREAM_ACCESS_KEY_ID'),
    secret_access_key_secret: envName.default('LITESTREAM_SECRET_ACCESS_KEY'),
  }),
  sync_interval: duration.default('1s'),
  snapshot_interval: duration.default('1h'),
  retention: duration.default('72h'),
  max_lag_seconds: z.number().int().min(1).default(60).describe('backup:status turns red past this lag.'),
  preflight: z.enum(['warn', 'refuse']).default('refuse').describe('What a deploy does when replication is not current.'),
  max_verify_age_hours: z
    .number()
    .int()
    .min(1)
    .default(168)
    .describe('backup:status turns red when the last backup:verify is older than this (or failed, or never ran).'),
});

export const appSchema = z.strictObject({
  $schema: z.string().optional(),
  image: z.string().regex(/^[a-z0-9]+([._\/:-][a-z0-9]+)*(:[\w][\w.-]{0,127})?$/, 'an image reference such as "ghcr.io/acme/app" or "app:1.2"'),
  build: buildSchema.optional(),
  registry: z
    .union([
      z.literal('none').describe('No registry: the image built here (build.on: local) goes to each host over SSH, only the layers it lacks.'),
      registrySchema,
    ])
    .optional(),
  hosts: z.array(name('host')).optional().describe('Hosts from hosts.json to deploy to (on a cluster: the one node its tasks are pinned to).'),
  cluster: name('cluster')
    .optional()
    .describe('Run on this cluster from hosts.json (Docker Swarm) instead of per host; hosts/roles then place the tasks (one host or one role).'),
  replicas: z.number().int().min(1).max(100).optional().describe('Web tasks per colour on a cluster (default 1). More than 1 needs a cluster and no database volume.'),
  roles: z.array(name('role')).optional().describe('Deploy to every host having one of these roles.'),
  domains: z
    .array(domainName)
    .default([])
    .describe('Domains routed to the app. The first is canonical. "*.example.com" needs a DNS-01 resolver (tls.resolver).'),
  www: z
    .enum(['none', 'alias', 'redirect-to-apex', 'redirect-to-www'])
    .default('none')
    .describe('Serve www.<domain> too: as an alias, or redirecting one to the other.'),
  path_prefix: z
    .union([pathPrefix, z.array(pathPrefix).min(1).refine((a) => new Set(a).size === a.length, 'path prefixes without duplicates')])
    .optional()
    .describe(
      "Serve the app below these paths of its domains only (Kamal's path_prefix), e.g. \"/blog\" beside another app on the same domain. A prefix matches itself and what lies below it (\"/blog\", \"/blog/x\"; not \"/blogger\"); the longest prefix wins.",
    ),
  strip_path_prefix: z
    .boolean()
    .optional()
    .describe('Remove the path prefix before the request reaches the app ("/blog/x" arrives as "/x", with X-Forwarded-Prefix: /blog). Default true, as Kamal.'),
  buffering: z
    .strictObject({
      requests: z.boolean().default(false).describe("Read the whole request body before passing it on (Traefik's buffering middleware)."),
      responses: z.boolean().default(false).describe('Read the whole response before sending it; Traefik buffers requests and responses together, so this must equal requests.'),
      max_request_body: byteSize.default(0).describe('Larger request bodies get 413 (0: no limit; needs requests: true).'),
      max_response_body: byteSize.default(0).describe('Larger responses become a 500 (0: no limit; needs responses: true).'),
      memory: byteSize.default(1048576).describe('Bodies larger than this are buffered on disk instead of in memory (default 1 MiB).'),
    })
    .optional()
    .describe(
      "Request/response buffering at the edge (Kamal's proxy.buffering). Off by default: Traefik's buffering holds back streamed responses (server-sent events) until they end, where kamal-proxy passes them through.",
    ),
  response_timeout: duration
    .optional()
    .describe("How long the edge waits for the app's response headers before answering 504 (Kamal's proxy.response_timeout); default 30s, \"0s\" for none."),
  error_pages_path: z
    .string()
    .regex(/^[A-Za-z0-9._@+\/-]+$/, 'a folder of letters, digits and . _ @ + - /')
    .refine((p) => !p.startsWith('/') || !p.split('/').includes('..'), 'an absolute path inside the image without ".." segments')
    .optional()
    .describe(
      "Where the app's 503.html for maintenance mode is (Kamal's error_pages_path): a folder relative to the app folder, or an absolute path inside the image. {{ .Message }} in it is replaced by the maintenance message.",
    ),
  port: z.number().int().min(1).max(65535).default(80).describe('Port the app listens on inside the container.'),
  healthcheck: healthcheck.default({ path: '/up', interval: '2s', timeout: '2s', retries: 15, start_period: '5s', start_interval: '100ms' }),
  tls: tlsSchema.default({ mode: 'acme', resolver: 'letsencrypt' }),
  env: z.record(envName, envValue).default({}),
  secrets: z.array(envName).default([]).describe('Secret names; values come from the environment at deploy time.'),
  secret_commands: z
    .record(envName, z.string().min(1))
    .default({})
    .describe('Commands printing a secret value (e.g. "gh auth token"), run on the operator machine.'),
  volumes,
  per_host_volumes: z
    .array(name('volume'))
    .default([])
    .describe('Volumes that may exist separately on each host of a multi-host app (caches). Never a database: each host would get its own copy.'),
  asset_path: z
    .string()
    // Segments never start with ".", so no "." or ".." either.
    .regex(/^(\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/, 'an absolute container path of plain segments, e.g. "/rails/public/assets"')
    .optional()
    .describe(
      "Asset bridging (Kamal's name): the image's compiled assets directory. Each release's colour mounts the assets of the kept releases (keep_releases) merged with its own, so pages of the previous release still find theirs after a switch.",
    ),
  release_command: z.string().optional().describe('Run once in the new image before cutover (migrations).'),
  command: z.string().optional().describe('Override the image command.'),
  restart: z.enum(['no', 'always', 'on-failure', 'unless-stopped']).default('unless-stopped'),
  resources: resourcesSchema.optional(),
  web: z
    .strictObject(placement)
    .optional()
    .describe("Hosts running the web colours (routed), when not all of the app's hosts; a host without web gets no route."),
  workers: z
    .record(
      name('worker'),
      z.strictObject({
        command: z.string().min(1),
        replicas: z.number().int().min(1).max(100).optional().describe('Tasks of this worker on a cluster (default 1).'),
        ...placement,
        resources: resourcesSchema.optional().describe("Memory/CPU limits of this worker (default: the app's resources)."),
      }),
    )
    .default({})
    .describe('Extra processes from the same image (not routed), replaced after cutover.'),
  litestream: litestreamSchema.optional(),
  accessories: z.record(name('accessory'), accessorySchema).default({}),
  hooks: z
    .strictObject({ pre_build: z.string().optional(), pre_deploy: z.string().optional(), post_deploy: z.string().optional() })
    .default({})
    .describe('Commands run on the operator machine with BERTH_* env.'),
  aliases: z
    .record(name('alias'), z.string().min(1))
    .default({})
    .describe('Shortcuts: a command run in the live container, or "berth:<command> args" for a Berth command.'),
  deploy: z
    .strictObject({
      retire_seconds: z.number().int().min(0).default(10).describe('Old colour keeps running this long after cutover.'),
      stop_timeout_seconds: z.number().int().min(1).default(30).describe('SIGTERM grace before SIGKILL.'),
      health_timeout_seconds: z.number().int().min(5).default(120),
      keep_releases: z.number().int().min(2).default(5).describe('Releases whose assets (asset_path) stay on the host and are served by the newest colour.'),
      batch_size: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe("Hosts deployed at the same time (Kamal's boot.limit); a batch starts only when the previous one is live everywhere. Default: all hosts at once (each host still switches only after its new colour is healthy)."),
    })
    .default({ retire_seconds: 10, stop_timeout_seconds: 30, health_timeout_seconds: 120, keep_releases: 5 }),
});

export type HostConfig = z.infer<typeof hostSchema>;
export type HostsFile = z.infer<typeof hostsFileSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type EdgeConfig = z.infer<typeof edgeSchema>;
export type AppConfig = z.infer<typeof appSchema>;
export type AccessoryConfig = z.infer<typeof accessorySchema>;
export type LitestreamConfig = z.infer<typeof litestreamSchema>;

/** An app as the planner sees it: its validated config plus where it came from. */
export interface App {
  name: string;
  dir: string; // absolute path of apps/<name>
  file: string; // the config file cosmiconfig found, relative to the project root
  config: AppConfig;
}

/** Everything validated, ready for planning. */
export interface Project {
  root: string;
  hosts: Record<string, HostConfig>;
  /** Swarm clusters from hosts.json (absent in projects built by hand: no cluster). */
  clusters?: Record<string, ClusterConfig>;
  edge: EdgeConfig;
  apps: App[];
}
