// The sandbox's stand-in for Cloudflare (sandbox/images/front): start a front load balancer, or a
// stand-in origin that echoes what it received, as a container on this machine's engine joined to
// a sandbox network. Each test gets its own uniquely named containers and removes them with stop().
// Interface documented in sandbox/README.md ("Front load balancer").
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SANDBOX_NETWORK } from './config.ts';
import { sandboxRequest, waitFor } from './http.ts';
import { buildAllImages } from './images.ts';
import { run } from './proc.ts';

export const FRONT_IMAGE = 'berth/front:latest';
/** Label on every container started here (value: the container name), to find a crashed test's leftovers. */
export const FRONT_LABEL = 'berth.sandbox.front';

export interface FrontOptions {
  /** Origin URLs as the front's container reaches them, e.g. ['https://172.31.0.11', 'https://172.31.0.12']. */
  origins: string[];
  /** Docker network (on this machine's engine) the front joins to reach the origins; default `berth`. */
  network?: string;
  /** 'verify' (Cloudflare "Full (strict)"; default) or 'insecure' (Cloudflare "Full": any origin certificate). */
  originTls?: 'verify' | 'insecure';
  /** Extra roots (PEM) to verify origins with, e.g. the Cloudflare Origin CA stand-in. */
  originCaPem?: string;
  /** Client certificate the front presents to origins (Cloudflare "Authenticated Origin Pulls"). */
  originClientCert?: { certPem: string; keyPem: string };
  /** Names in the front's own self-signed HTTPS certificate (default localhost, 127.0.0.1). */
  tlsNames?: string[];
  /** Name prefix for the container (a random suffix is added). */
  name?: string;
}

export interface FrontContainer {
  /** Container name (unique per call). */
  name: string;
  /** Its address on the network it joined (how other containers reach it). */
  address: string;
  /** From this machine: http://127.0.0.1:<port> and https://127.0.0.1:<port> (published on loopback only). */
  httpUrl: string;
  httpsUrl: string;
  /** The container's self-signed HTTPS certificate (PEM): pass as `ca` to trust it. */
  certPem: string;
  logs(): Promise<string>;
  /** Remove the container and its files; safe to call twice. */
  stop(): Promise<void>;
}

let imageReady: Promise<unknown> | undefined;
/** Build berth/front when missing or stale (sandbox:up builds it too; this makes a test self-sufficient). */
export function ensureFrontImage(): Promise<unknown> {
  imageReady ??= buildAllImages({ only: ['front'] });
  return imageReady;
}

const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;

async function startContainer(
  name: string,
  network: string,
  env: Record<string, string>,
  files: Record<string, string>,
  command: string[],
): Promise<FrontContainer> {
  await ensureFrontImage();
  // Files (CA, client key) are bind-mounted read-only, never passed in env: `docker inspect` shows env.
  const dir = mkdtempSync(join(tmpdir(), 'berth-front-'));
  const mounts: string[] = [];
  for (const [file, content] of Object.entries(files)) {
    writeFileSync(join(dir, file), content, { mode: 0o644 });
    mounts.push('-v', `${join(dir, file)}:/etc/front/${file}:ro`);
  }
  const stop = async () => {
    await run(['docker', 'rm', '-f', '-v', name], { allowFail: true });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run([
      'docker', 'run', '-d', '--name', name, '--label', `${FRONT_LABEL}=${name}`, '--network', network,
      '-p', '127.0.0.1::80', '-p', '127.0.0.1::443',
      ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      ...mounts, FRONT_IMAGE, ...command,
    ]);
    const port = async (p: number) => {
      const out = (await run(['docker', 'port', name, `${p}/tcp`])).stdout.split('\n').find((l) => l.startsWith('127.0.0.1:'));
      if (!out) throw new Error(`${name}: port ${p} is not published on 127.0.0.1`);
      return out.trim();
    };
    const httpUrl = `http://${await port(80)}`;
    const httpsUrl = `https://${await port(443)}`;
    const address = (await run(['docker', 'inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name])).stdout.trim();
    const certPem = await waitFor(`${name} certificate`, async () => {
      const r = await run(['docker', 'exec', name, 'cat', '/run/front/cert.pem'], { allowFail: true });
      return r.code === 0 && r.stdout.includes('BEGIN CERTIFICATE') ? r.stdout : undefined;
    }, { timeoutMs: 15_000, intervalMs: 200 });
    await waitFor(`${name} listening`, async () => (await sandboxRequest(`${httpUrl}/_front/up`, { timeoutMs: 2000 })).status > 0, {
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    return {
      name,
      address,
      httpUrl,
      httpsUrl,
      certPem,
      logs: async () => {
        const r = await run(['docker', 'logs', name], { allowFail: true });
        return r.stdout + r.stderr;
      },
      stop,
    };
  } catch (e) {
    const logs = await run(['docker', 'logs', '--tail', '20', name], { allowFail: true });
    await stop();
    throw new Error(`${(e as Error).message}\n${name} logs:\n${logs.stdout}${logs.stderr}`);
  }
}

/** Start a front that round-robins over `origins`, one origin per request, never retrying. */
export function startFront(opts: FrontOptions): Promise<FrontContainer> {
  if (opts.origins.length === 0) throw new Error('startFront: give at least one origin URL');
  const env: Record<string, string> = {
    FRONT_ORIGINS: opts.origins.join(','),
    FRONT_ORIGIN_TLS: opts.originTls ?? 'verify',
    FRONT_TLS_NAMES: (opts.tlsNames ?? ['localhost', '127.0.0.1']).join(','),
  };
  const files: Record<string, string> = {};
  if (opts.originCaPem) {
    files['origin-ca.pem'] = opts.originCaPem;
    env.FRONT_ORIGIN_CA = '/etc/front/origin-ca.pem';
  }
  if (opts.originClientCert) {
    files['client.pem'] = opts.originClientCert.certPem;
    files['client.key'] = opts.originClientCert.keyPem;
    env.FRONT_ORIGIN_CLIENT_CERT = '/etc/front/client.pem';
    env.FRONT_ORIGIN_CLIENT_KEY = '/etc/front/client.key';
  }
  return startContainer(uniqueName(opts.name ?? 'berth-sandbox-front'), opts.network ?? SANDBOX_NETWORK.name, env, files, []);
}

/**
 * Start a stand-in origin: answers every request on 80 and 443 (self-signed for `tlsNames`) with
 * JSON {name, method, host, uri, scheme, sni, remote, headers, body} and header X-Echo-Name.
 */
export function startEchoOrigin(opts: { name?: string; network?: string; tlsNames?: string[] } = {}): Promise<FrontContainer> {
  const name = uniqueName(opts.name ?? 'berth-sandbox-echo');
  return startContainer(name, opts.network ?? SANDBOX_NETWORK.name, { ECHO_NAME: name, FRONT_TLS_NAMES: (opts.tlsNames ?? ['localhost']).join(',') }, {}, ['front', 'echo']);
}
