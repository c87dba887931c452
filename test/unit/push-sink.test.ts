// Berth's push sink speaks the part of the registry API `docker push` uses, and lets nothing into
// the cache that does not match its digest (the real engine pushing to it: test/e2e/transfer.test.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseManifest, type PushSink, startPushSink } from '../../src/exec/push-sink.ts';

let dir: string;
let sink: PushSink;

function call(method: string, path: string, body?: Buffer | string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const [host, port] = sink.address.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), method, path }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('push sink', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-sink-'));
    sink = await startPushSink(dir, 0);
  });
  after(async () => {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the version check and says which blobs it has', async () => {
    assert.equal(sink.reached(), false);
    assert.equal((await call('GET', '/v2/')).status, 200);
    assert.equal(sink.reached(), true);
    assert.equal((await call('HEAD', `/v2/berth/app/blobs/sha256:${sha('nothing')}`)).status, 404);
  });

  it('takes a chunked upload, checks its digest, then has the blob', async () => {
    const data = Buffer.from('layer bytes '.repeat(1000));
    const start = await call('POST', '/v2/berth/app/blobs/uploads/');
    assert.equal(start.status, 202);
    const loc = String(start.headers.location);
    assert.equal((await call('PATCH', loc, data.subarray(0, 5000))).status, 202);
    const put = await call('PUT', `${loc}?digest=sha256:${sha(data)}`, data.subarray(5000));
    assert.equal(put.status, 201);
    assert.deepEqual(readFileSync(join(dir, 'blobs', sha(data))), data);
    const head = await call('HEAD', `/v2/berth/app/blobs/sha256:${sha(data)}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(data.length));
    // A cross-repository mount of a blob it has is accepted without data.
    assert.equal((await call('POST', `/v2/berth/other/blobs/uploads/?mount=sha256:${sha(data)}&from=berth/app`)).status, 201);
  });

  it('refuses data that does not match the digest it claims: nothing enters the cache', async () => {
    const before = readdirSync(join(dir, 'blobs')).length;
    const start = await call('POST', '/v2/berth/app/blobs/uploads/');
    const put = await call('PUT', `${String(start.headers.location)}?digest=sha256:${sha('other')}`, 'tampered');
    assert.equal(put.status, 400);
    assert.equal(readdirSync(join(dir, 'blobs')).length, before);
    // A monolithic upload is checked the same way.
    assert.equal((await call('POST', `/v2/berth/app/blobs/uploads/?digest=sha256:${sha('x')}`, 'y')).status, 400);
    assert.equal((await call('POST', `/v2/berth/app/blobs/uploads/?digest=sha256:${sha('x')}`, 'x')).status, 201);
    assert.ok(existsSync(join(dir, 'blobs', sha('x'))));
  });

  it('keeps the pushed manifest (config and layers, bottom first)', async () => {
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 7, digest: `sha256:${sha('config')}` },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 1, digest: `sha256:${sha('x')}` }],
    };
    const r = await call('PUT', '/v2/berth/app/manifests/abc123', JSON.stringify(manifest));
    assert.equal(r.status, 201);
    assert.deepEqual(sink.manifests.get('berth/app:abc123'), {
      config: sha('config'),
      layers: [{ blob: sha('x'), size: 1, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }],
    });
    assert.equal((await call('PUT', '/v2/berth/app/manifests/bad', '{"layers": 3}')).status, 400);
  });

  it('answers nothing outside the push routes (no path escapes the cache)', async () => {
    assert.equal((await call('HEAD', '/v2/../../etc/blobs/sha256:' + sha('x'))).status, 404);
    assert.equal((await call('GET', '/etc/passwd')).status, 404);
    assert.equal((await call('PATCH', `/v2/berth/app/blobs/uploads/${'0'.repeat(32)}`, 'x')).status, 404);
  });

  it('parseManifest: OCI or Docker schema 2; anything else is refused', () => {
    assert.equal(parseManifest(Buffer.from('not json')), undefined);
    assert.equal(parseManifest(Buffer.from(JSON.stringify({ config: { digest: 'sha256:zz' }, layers: [] }))), undefined);
  });
});
