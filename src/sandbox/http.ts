// HTTP(S) helpers for end-to-end tests: test domains (*.berth.test) resolve to the sandbox host's edge,
// TLS is verified against Pebble's roots (never disabled), redirects are NOT followed.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { SANDBOX_CA_DIR } from './config.ts';

export interface SandboxResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Milliseconds from request start to the end of the body. */
  ms: number;
  /** Peer certificate (HTTPS only), e.g. to check the issuer. */
  peerCertificate?: { subject: unknown; issuer: unknown; subjectaltname?: string; valid_to?: string };
}

export interface SandboxRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Connect here instead of resolving the URL's host name (default: setDomainHost's address, else h1's edge 127.0.1.1 for *.berth.test). */
  resolveTo?: string;
  /** PEM CA bundle for HTTPS (default: Pebble's current issuing roots + the directory's minica). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Reuse connections (pass a keep-alive agent) or not (default: a fresh connection per request). */
  agent?: http.Agent | https.Agent | false;
  timeoutMs?: number;
}

/** A `lookup` that answers every name with one address (how test domains reach the test host). */
export function fixedLookup(address: string): LookupFunction {
  const family = address.includes(':') ? 6 : 4;
  return ((_host: string, opts: unknown, cb?: unknown) => {
    const callback = (typeof opts === 'function' ? opts : cb) as (...a: unknown[]) => void;
    const all = typeof opts === 'object' && opts !== null && (opts as { all?: boolean }).all;
    if (all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
}

/** Where h1's edge (80/443) is published on this machine: the default for every test domain. */
export const DEFAULT_EDGE_ADDRESS = '127.0.1.1';
const domainAddresses = new Map<string, string>();

/**
 * Send requests for `domain` (and its subdomains' exact names only when listed) to another host's
 * published edge, e.g. setDomainHost('fleet.berth.test', H2.edgeAddress); undefined forgets it.
 */
export function setDomainHost(domain: string, edgeAddress: string | undefined): void {
  if (edgeAddress) domainAddresses.set(domain.toLowerCase(), edgeAddress);
  else domainAddresses.delete(domain.toLowerCase());
}

/** Default address for a host name: a domain set with setDomainHost, else *.berth.test → h1's edge (127.0.1.1). */
export function defaultResolve(hostname: string): string | undefined {
  const set = domainAddresses.get(hostname.toLowerCase());
  if (set) return set;
  return hostname === 'berth.test' || hostname.endsWith('.berth.test') ? DEFAULT_EDGE_ADDRESS : undefined;
}

let cachedCa: string | undefined;
/** Pebble's roots exported by sandbox:up/status (ca/*.pem), concatenated. */
export function sandboxCaBundle(reload = false): string {
  if (cachedCa && !reload) return cachedCa;
  const files = ['pebble-root.pem', 'pebble-intermediate.pem', 'pebble-minica.pem'].map((f) => join(SANDBOX_CA_DIR, f));
  const pems = files.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8'));
  if (pems.length === 0) throw new Error(`no CA certificates in ${SANDBOX_CA_DIR}: run npm run sandbox:up`);
  cachedCa = pems.join('\n');
  return cachedCa;
}

const contexts = new Map<unknown, SecureContext>();
function secureContextFor(ca: string | Buffer | Array<string | Buffer>): SecureContext {
  let ctx = contexts.get(ca);
  if (!ctx) {
    ctx = createSecureContext({ ca });
    contexts.set(ca, ctx);
  }
  return ctx;
}

export function sandboxRequest(url: string | URL, opts: SandboxRequestOptions = {}): Promise<SandboxResponse> {
  const u = typeof url === 'string' ? new URL(url) : url;
  const isHttps = u.protocol === 'https:';
  const address = opts.resolveTo ?? defaultResolve(u.hostname);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const reqOpts: https.RequestOptions = {
      method: opts.method ?? 'GET',
      headers: opts.headers,
      agent: opts.agent ?? false,
      lookup: address ? fixedLookup(address) : undefined,
      timeout: opts.timeoutMs ?? 15_000,
    };
    if (isHttps) {
      // One TLS context per CA bundle: building it per request saturates a load loop's CPU.
      (reqOpts as https.RequestOptions & { secureContext?: SecureContext }).secureContext = secureContextFor(opts.ca ?? sandboxCaBundle());
      if (!isIP(u.hostname)) reqOpts.servername = u.hostname;
    }
    const req = (isHttps ? https : http).request(u, reqOpts, (res) => {
      const chunks: Buffer[] = [];
      const sock = res.socket as import('node:tls').TLSSocket;
      const peer = isHttps && typeof sock.getPeerCertificate === 'function' ? sock.getPeerCertificate() : undefined;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - t0,
          peerCertificate: peer && Object.keys(peer).length ? peer : undefined,
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 15_000} ms: ${opts.method ?? 'GET'} ${u}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** HTTPS verified with Pebble's roots; *.berth.test resolved to the test host. */
export function httpsRequest(url: string | URL, opts: SandboxRequestOptions = {}): Promise<SandboxResponse> {
  const u = typeof url === 'string' ? new URL(url) : url;
  if (u.protocol !== 'https:') throw new Error(`httpsRequest needs an https URL, got ${u}`);
  return sandboxRequest(u, opts);
}

/** Plain HTTP (e.g. to check the redirect to HTTPS); redirects are returned, not followed. */
export function httpRequest(url: string | URL, opts: SandboxRequestOptions = {}): Promise<SandboxResponse> {
  const u = typeof url === 'string' ? new URL(url) : url;
  if (u.protocol !== 'http:') throw new Error(`httpRequest needs an http URL, got ${u}`);
  return sandboxRequest(u, opts);
}

/** Poll until `fn` resolves truthy; bounded by attempts and total time. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  { timeoutMs = 60_000, intervalMs = 500 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const maxAttempts = Math.ceil(timeoutMs / intervalMs) + 1;
  let last: unknown;
  for (let i = 0; i < maxAttempts && Date.now() < deadline; i++) {
    try {
      const r = await fn();
      if (r) return r;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
