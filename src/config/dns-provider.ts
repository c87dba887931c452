// PURE: what one DNS-01 resolver hands lego inside Traefik — each credential as <VARIABLE>_FILE
// (a mounted secret file, never a value in the container's environment), Cloudflare's API URL,
// and the provider's own propagation settings — checked against lego's table of providers.
import { runSecret } from '../names.ts';
import { LEGO, providerVariable } from './lego-table.ts';
import type { EdgeConfig } from './schema.ts';

export type DnsResolver = Extract<EdgeConfig['acme']['resolvers'][string], { challenge: 'dns-01' }>;

/** The Cloudflare variables Berth's own keys set (token_secret, api_base_url). */
export const CLOUDFLARE = { provider: 'cloudflare', token: 'CF_DNS_API_TOKEN', baseUrl: 'CLOUDFLARE_BASE_URL' } as const;

/** lego providers Berth cannot drive, and why. */
export const UNSUPPORTED_PROVIDERS: Record<string, string> = {
  manual: 'it asks for each TXT record on a terminal, and Traefik has none',
  exec: 'it runs a program inside the Traefik container, which Berth does not ship there',
};

export const PROPAGATION_SUFFIX = { timeout: '_PROPAGATION_TIMEOUT', polling_interval: '_POLLING_INTERVAL' } as const;

/** lego variable → secret name: token_secret (Cloudflare's token) plus credentials. */
export function dnsCredentials(r: DnsResolver): Record<string, string> {
  return { ...(r.token_secret ? { [CLOUDFLARE.token]: r.token_secret } : {}), ...(r.credentials ?? {}) };
}

/** Whole seconds (rounded up) of a duration such as "90s", "2m" or "500ms": lego reads its timeouts as seconds. */
export function durationSeconds(d: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
  return Math.max(1, Math.ceil(ms / 1000));
}

/** The environment one resolver gives lego (rules.ts checks every variable against the table first). */
export function dnsResolverEnv(r: DnsResolver): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [variable, secret] of Object.entries(dnsCredentials(r))) env[`${variable}_FILE`] = runSecret(secret);
  if (r.api_base_url) env[CLOUDFLARE.baseUrl] = r.api_base_url;
  const provider = LEGO.providers[r.provider];
  for (const key of ['timeout', 'polling_interval'] as const) {
    const value = r.propagation?.[key];
    const variable = provider && providerVariable(provider, PROPAGATION_SUFFIX[key]);
    if (value && variable) env[variable] = String(durationSeconds(value));
  }
  return env;
}
