// A registry endpoint on 127.0.0.1 that only takes pushes, and keeps what it is pushed in the image
// cache (src/exec/image-cache.ts). It is how Berth gets the layers of a local image out of the
// local engine cheaply: `docker push` to it reads and compresses only the layers the sink does not
// have (the engine remembers what it pushed where, and asks with HEAD first), where `docker save`
// writes the whole image every time. Nothing leaves this machine; the hosts get the blobs over SSH.
//
// Implemented: the part of the registry v2 API a push uses — GET /v2/, HEAD a blob, POST an upload
// (or a cross-repository mount), PATCH/PUT its data, PUT the manifest. Every blob is checked
// against its digest before it enters the cache.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';

export interface PushedManifest {
  /** Hex digest of the config blob (the image ID). */
  config: string;
  layers: { blob: string; size: number; mediaType: string }[];
}

export interface PushSink {
  /** "127.0.0.1:<port>": the registry part of the reference to push to. */
  address: string;
  /** Manifests pushed so far, by "<repository>:<tag>". */
  manifests: Map<string, PushedManifest>;
  /** Whether the engine has reached the sink (any request). */
  reached(): boolean;
  close(): Promise<void>;
}

/** The port Berth asks for first: a stable address lets the engine recognise layers it pushed in earlier runs. */
export const PUSH_SINK_PORT = 5996;

const NAME = '([a-z0-9]+(?:[._/-][a-z0-9]+)*)';
const DIGEST = 'sha256:([0-9a-f]{64})';
const ROUTES = {
  blob: new RegExp(`^/v2/${NAME}/blobs/${DIGEST}$`),
  uploads: new RegExp(`^/v2/${NAME}/blobs/uploads/$`),
  upload: new RegExp(`^/v2/${NAME}/blobs/uploads/([0-9a-f]{32})$`),
  manifest: new RegExp(`^/v2/${NAME}/manifests/([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|${DIGEST})$`),
};

export async function startPushSink(dir: string, port = PUSH_SINK_PORT): Promise<PushSink> {
  const blobs = join(dir, 'blobs');
  const uploads = join(dir, `uploads-${randomBytes(6).toString('hex')}`);
  await mkdir(blobs, { recursive: true });
  await mkdir(uploads, { recursive: true, mode: 0o700 });
  const manifests = new Map<string, PushedManifest>();
  const open = new Map<string, { hash: ReturnType<typeof createHash>; size: number; path: string }>();
  let reached = false;

  const has = async (hex: string) => stat(join(blobs, hex)).then((s) => s.size, () => undefined);
  const send = (res: ServerResponse, status: number, headers: Record<string, string | number> = {}) => {
    res.writeHead(status, { 'Docker-Distribution-API-Version': 'registry/2.0', 'Content-Length': 0, ...headers });
    res.end();
  };
  const startUpload = (res: ServerResponse, name: string) => {
    const uuid = randomBytes(16).toString('hex');
    open.set(uuid, { hash: createHash('sha256'), size: 0, path: join(uploads, uuid) });
    send(res, 202, { Location: `/v2/${name}/blobs/uploads/${uuid}`, 'Docker-Upload-UUID': uuid, Range: '0-0' });
  };
  /** Append the request body to an upload, hashing it on the way. */
  const append = async (req: IncomingMessage, u: { hash: ReturnType<typeof createHash>; size: number; path: string }) => {
    const tap = new Transform({
      transform(chunk: Buffer, _e, cb) {
        u.hash.update(chunk);
        u.size += chunk.length;
        cb(null, chunk);
      },
    });
    await pipeline(req, tap, createWriteStream(u.path, { flags: 'a', mode: 0o600 }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    reached = true;
    const url = new URL(req.url ?? '/', 'http://sink');
    const path = url.pathname;
    let m: RegExpExecArray | null;
    if (path === '/v2/' || path === '/v2') return send(res, 200);
    if ((m = ROUTES.blob.exec(path)) && (req.method === 'HEAD' || req.method === 'GET')) {
      const size = await has(m[2]!);
      return size === undefined ? send(res, 404) : send(res, 200, { 'Docker-Content-Digest': `sha256:${m[2]}`, 'Content-Length': size, 'Content-Type': 'application/octet-stream' });
    }
    if ((m = ROUTES.uploads.exec(path)) && req.method === 'POST') {
      const mount = /^sha256:([0-9a-f]{64})$/.exec(url.searchParams.get('mount') ?? '');
      if (mount && (await has(mount[1]!)) !== undefined) {
        return send(res, 201, { Location: `/v2/${m[1]}/blobs/sha256:${mount[1]}`, 'Docker-Content-Digest': `sha256:${mount[1]}` });
      }
      const digest = /^sha256:([0-9a-f]{64})$/.exec(url.searchParams.get('digest') ?? '');
      if (digest) {
        // A monolithic upload: the whole blob in this request.
        const u = { hash: createHash('sha256'), size: 0, path: join(uploads, randomBytes(16).toString('hex')) };
        await append(req, u);
        return finish(res, m[1]!, u, digest[1]!);
      }
      req.resume();
      return startUpload(res, m[1]!);
    }
    if ((m = ROUTES.upload.exec(path)) && (req.method === 'PATCH' || req.method === 'PUT')) {
      const u = open.get(m[2]!);
      if (!u) {
        req.resume();
        return send(res, 404);
      }
      await append(req, u);
      if (req.method === 'PATCH') return send(res, 202, { Location: `/v2/${m[1]}/blobs/uploads/${m[2]}`, 'Docker-Upload-UUID': m[2]!, Range: `0-${Math.max(0, u.size - 1)}` });
      open.delete(m[2]!);
      const digest = /^sha256:([0-9a-f]{64})$/.exec(url.searchParams.get('digest') ?? '');
      if (!digest) {
        await rm(u.path, { force: true });
        return send(res, 400);
      }
      return finish(res, m[1]!, u, digest[1]!);
    }
    if ((m = ROUTES.manifest.exec(path)) && req.method === 'PUT') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req) {
        size += (c as Buffer).length;
        if (size > 4 << 20) return send(res, 413);
        chunks.push(c as Buffer);
      }
      const body = Buffer.concat(chunks);
      const parsed = parseManifest(body);
      if (!parsed) return send(res, 400);
      manifests.set(`${m[1]}:${m[2]}`, parsed);
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      return send(res, 201, { Location: `/v2/${m[1]}/manifests/${digest}`, 'Docker-Content-Digest': digest });
    }
    if ((m = ROUTES.manifest.exec(path)) && (req.method === 'HEAD' || req.method === 'GET')) return send(res, 404);
    req.resume();
    return send(res, 404);
  };

  const finish = async (res: ServerResponse, name: string, u: { hash: ReturnType<typeof createHash>; path: string }, expected: string) => {
    const got = u.hash.digest('hex');
    if (got !== expected) {
      await rm(u.path, { force: true });
      return send(res, 400);
    }
    await rename(u.path, join(blobs, got)).catch(async () => rm(u.path, { force: true }));
    return send(res, 201, { Location: `/v2/${name}/blobs/sha256:${got}`, 'Docker-Content-Digest': `sha256:${got}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500);
      else res.destroy();
    });
  });
  const listen = (p: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  // Another Berth run may hold the stable port: any free one works (the engine then compresses every layer again).
  const bound = await listen(port).catch(() => listen(0));
  return {
    address: `127.0.0.1:${bound}`,
    manifests,
    reached: () => reached,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(uploads, { recursive: true, force: true });
    },
  };
}

/** An image manifest (Docker schema 2 or OCI): its config digest and its layers, bottom first. */
export function parseManifest(body: Buffer): PushedManifest | undefined {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { config?: { digest?: string }; layers?: { digest?: string; size?: number; mediaType?: string }[] };
    const hex = (d?: string) => /^sha256:([0-9a-f]{64})$/.exec(d ?? '')?.[1];
    const config = hex(doc.config?.digest);
    if (!config || !Array.isArray(doc.layers)) return undefined;
    const layers = doc.layers.map((l) => ({ blob: hex(l.digest), size: l.size, mediaType: l.mediaType ?? '' }));
    if (layers.some((l) => !l.blob || typeof l.size !== 'number')) return undefined;
    return { config, layers: layers as PushedManifest['layers'] };
  } catch {
    return undefined;
  }
}
