import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { describe, it } from 'node:test';
import tarFs from 'tar-fs';
import { blobTarStream, imageShipScripts, imageStagingDir } from '../../src/exec/image-ship.ts';
import {
  chainIds, diskRefusal, familiarRef, type HostImages, layersPresent, type LocalImage, parseHostImages, planShip, shipManifest, unpackedEstimate,
} from '../../src/plan/image-ship.ts';

// berth/railsapp:v1's diff IDs and the chain IDs Docker 26.1's layer store gave them on a sandbox
// host (/var/lib/docker/image/overlay2/layerdb/sha256/<chain ID>/diff).
const DIFFS = [
  'sha256:e1d1ad5a8d50f90cb6cfdd13ad39856d0493a7cfb17f2b746b8f53ca2747440b',
  'sha256:3512165a7879464971069cc521f6e9686f8fffe7cdd12d4e1db8692056c0c3ce',
  'sha256:80df2065504d84945499e859d5b7b85a5c6d80a5f59f4bef2a903233e069e49a',
  'sha256:5a134b387a4f989613a03fa90b45171cf57726ed345a2dabfd6c1a890c263273',
  'sha256:23fafd29da80103c01534ea6152aedfa27102270211e2fd9a16f35916e5d49b8',
  'sha256:f3923d2cab8c22e10ef8e1fe80e3bebd30d6c899f843c9dcd210df0c923af67d',
  'sha256:5c557f0f7ff520702bcd7102fd3a837024834a1920e3396c96fd3b7c59d03722',
];
const DOCKER_CHAINS = [
  'sha256:e1d1ad5a8d50f90cb6cfdd13ad39856d0493a7cfb17f2b746b8f53ca2747440b',
  'sha256:822efdf88a67cc91a662c43be3a44ef4577d73c7e60dc858e3caa8cf43afeff2',
  'sha256:84a9ac2d654d2dd74181178b788305dab276aca674c6a03405855157c20d0150',
  'sha256:eda1b88fd71ac8adfe50eba34073c296ccd62237f7118e373c58dbb5d94bb5f0',
  'sha256:c461b356040bc9e9546d94d72b41f613c3021a363efd32fd7af5b1213af7dca2',
  'sha256:116ac08be6f8d5fdf30cd0fdfc6b66f5fb53d2efa8d4ad24856e806887405346',
  'sha256:26e674721621751192834a121b6eac77547a328f62a3a2e6733eb1af8b786f95',
];

const hex = (c: string) => c.repeat(64).slice(0, 64);
const image = (sizes: number[], id = hex('c')): LocalImage => ({
  id: `sha256:${id}`,
  config: id,
  configSize: 3000,
  layers: sizes.map((size, i) => ({ diffId: `sha256:${hex(String(i + 1))}`, blob: hex(String(i + 1)), size })),
  compressed: false,
  unpackedSize: sizes.reduce((a, b) => a + b, 0),
});
const GIB = 2 ** 30;
const host = (over: Partial<HostImages> = {}): HostImages => ({
  hasId: false,
  layerLists: [],
  staged: {},
  disks: [
    { use: 'docker', path: '/var/lib/docker', fs: '/dev/vda', available: 50 * GIB },
    { use: 'staging', path: '/var/lib/berth/images/x', fs: '/dev/vda', available: 50 * GIB },
  ],
  tar: 'tar (GNU tar) 1.35',
  ...over,
});

describe('layer identity (chain IDs)', () => {
  it("computes the chain IDs Docker's layer store uses", () => {
    assert.deepEqual(chainIds(DIFFS), DOCKER_CHAINS);
  });

  it('a layer counts as present only with the same layers below it', () => {
    assert.equal(layersPresent(DIFFS, [DIFFS.slice(0, 5)]), 5);
    assert.equal(layersPresent(DIFFS, [DIFFS]), 7);
    assert.equal(layersPresent(DIFFS, []), 0);
    // The same top diff ID on another base is another layer (another chain ID): not present.
    assert.equal(layersPresent(DIFFS, [[DIFFS[1]!, DIFFS[0]!, ...DIFFS.slice(2)]]), 0);
    // The longest prefix any image has counts.
    assert.equal(layersPresent(DIFFS, [DIFFS.slice(0, 2), DIFFS.slice(0, 4)]), 4);
  });
});

describe('planShip', () => {
  it('nothing to send when the reference already points to the image', () => {
    const img = image([100, 200]);
    assert.equal(planShip(img, host({ refId: img.id })).kind, 'present');
  });

  it('an image there untagged (its load finished after the connection dropped) is only tagged', () => {
    assert.equal(planShip(image([100]), host({ hasId: true })).kind, 'tag');
  });

  it('sends the config and only the layers above the longest prefix the host has', () => {
    const img = image([1000, 2000, 50]);
    const p = planShip(img, host({ layerLists: [img.layers.slice(0, 2).map((l) => l.diffId)] }));
    assert.equal(p.kind, 'send');
    if (p.kind !== 'send') return;
    assert.equal(p.layersPresent, 2);
    assert.deepEqual(p.sends, [
      { blob: img.config, from: 0, size: 3000 },
      { blob: img.layers[2]!.blob, from: 0, size: 50 },
    ]);
    assert.equal(p.bytes, 3050);
    assert.deepEqual(p.load, [{ blob: img.config, size: 3000 }, { blob: img.layers[2]!.blob, size: 50 }]);
    // The manifest names every layer (docker load skips those the host has) and no tag.
    assert.deepEqual(JSON.parse(p.manifest), [{ Config: img.config, RepoTags: null, Layers: img.layers.map((l) => l.blob) }]);
  });

  it('a fresh host gets everything', () => {
    const img = image([1000, 2000]);
    const p = planShip(img, host());
    assert.equal(p.kind === 'send' && p.bytes, 6000);
  });

  it('resumes each staged blob where a cut transfer stopped; a staged file longer than its blob is dropped', () => {
    const img = image([1000, 2000, 500]);
    const p = planShip(img, host({ staged: { [img.config]: 3000, [img.layers[0]!.blob]: 400, [img.layers[2]!.blob]: 9999 } }));
    assert.equal(p.kind, 'send');
    if (p.kind !== 'send') return;
    assert.deepEqual(p.sends, [
      { blob: img.layers[0]!.blob, from: 400, size: 1000 },
      { blob: img.layers[1]!.blob, from: 0, size: 2000 },
      { blob: img.layers[2]!.blob, from: 0, size: 500 },
    ]);
    assert.deepEqual(p.discard, [img.layers[2]!.blob]);
    assert.equal(p.resumed, 3400);
    assert.equal(p.bytes, 600 + 2000 + 500);
  });

  it('one blob carrying two layers is staged once', () => {
    const img = image([10, 20]);
    img.layers[1] = { ...img.layers[0]!, diffId: img.layers[0]!.diffId };
    const p = planShip(img, host());
    assert.equal(p.kind === 'send' && p.sends.length, 2);
  });

  it('refuses before sending anything when the disk is too small', () => {
    const img = image([4 * GIB]);
    const tight = host({ disks: [
      { use: 'docker', path: '/var/lib/docker', fs: '/dev/vda', available: 10 * GIB },
      { use: 'staging', path: '/var/lib/berth/images/x', fs: '/dev/vda', available: 10 * GIB },
    ] });
    const p = planShip(img, tight);
    assert.equal(p.kind, 'refuse');
    assert.match(p.kind === 'refuse' ? p.reason : '', /^10 GiB free on \/var\/lib\/berth\/images\/x and \/var\/lib\/docker \(\/dev\/vda\), the image needs 13 GiB .*nothing was sent/);
    // Staging on another file system: each is checked for its own part.
    const split = host({ disks: [
      { use: 'docker', path: '/var/lib/docker', fs: '/dev/vdb', available: 9 * GIB },
      { use: 'staging', path: '/var/lib/berth/images/x', fs: '/dev/vda', available: 5 * GIB },
    ] });
    assert.equal(planShip(img, split).kind, 'send');
    assert.equal(planShip(img, host()).kind, 'send');
  });

  it('needs GNU tar on the host', () => {
    const p = planShip(image([10]), host({ tar: 'tar (busybox)' }));
    assert.equal(p.kind, 'refuse');
  });

  it('diskRefusal counts what is still to stage, docker load\'s copy and the unpacked layers', () => {
    const disks = host().disks.map((d) => ({ ...d, available: 1000 * 2 ** 20 }));
    assert.equal(diskRefusal(disks, 300 * 2 ** 20, 300 * 2 ** 20), undefined); // 900 MiB + margin 64 MiB < 1000 MiB
    assert.ok(diskRefusal(disks, 400 * 2 ** 20, 300 * 2 ** 20));
    assert.ok(diskRefusal(disks, 100 * 2 ** 20, 100 * 2 ** 20, 800 * 2 ** 20), 'compressed layers take more unpacked');
  });

  it('compressed (pushed) layers: the unpacked size is the image\'s, in proportion to the missing blobs', () => {
    const img = { ...image([100, 300]), compressed: true, unpackedSize: 1600 };
    assert.equal(unpackedEstimate(img, 1), 1200);
    assert.equal(unpackedEstimate(img, 0), 1600);
    assert.equal(unpackedEstimate({ ...img, compressed: false }, 1), 300);
  });
});

describe('host probe', () => {
  it('parses what the probe prints', () => {
    const id = `sha256:${hex('d')}`;
    const out = [
      `image sha256:${hex('a')} ${JSON.stringify(['acme/app:abc'])} ${JSON.stringify(DIFFS.slice(0, 2))}`,
      `image ${id} null ${JSON.stringify(DIFFS)}`,
      `image sha256:${hex('b')} [] null`,
      `staged ${hex('a')} 1234`,
      'staged ../../etc 5',
      'disk docker /var/lib/docker /dev/vda 79707500544',
      'disk staging /var/lib/berth/images/x overlay 79707500544',
      'tar tar (GNU tar) 1.35',
    ].join('\n');
    assert.deepEqual(parseHostImages(out, 'docker.io/acme/app:abc', id), {
      refId: `sha256:${hex('a')}`,
      hasId: true,
      layerLists: [DIFFS.slice(0, 2), DIFFS],
      staged: { [hex('a')]: 1234 },
      disks: [
        { use: 'docker', path: '/var/lib/docker', fs: '/dev/vda', available: 79707500544 },
        { use: 'staging', path: '/var/lib/berth/images/x', fs: 'overlay', available: 79707500544 },
      ],
      tar: 'tar (GNU tar) 1.35',
    });
    const none = parseHostImages(out, 'acme/app:other', `sha256:${hex('e')}`);
    assert.equal(none.refId, undefined);
    assert.equal(none.hasId, false);
  });

  it('matches a reference as RepoTags lists it', () => {
    assert.equal(familiarRef('docker.io/library/nginx:1.27'), 'nginx:1.27');
    assert.equal(familiarRef('nginx'), 'nginx:latest');
    assert.equal(familiarRef('docker.io/acme/app:abc'), 'acme/app:abc');
    assert.equal(familiarRef('127.0.0.1:5000/acme/app:abc'), '127.0.0.1:5000/acme/app:abc');
    assert.equal(familiarRef('localhost:5000/app'), 'localhost:5000/app:latest');
  });

  it('scripts take every value as an argument', () => {
    const t = { user: 'root', address: '203.0.113.5', port: 22 };
    const probe = imageShipScripts.probe(t, 'acme/app:abc', 'sha256:' + hex('e'));
    assert.equal(probe.mutates, false);
    assert.ok(probe.argv.at(-1)!.endsWith(`berth acme/app:abc sha256:${hex('e')} ${imageStagingDir(hex('e'))}`));
    const recv = imageShipScripts.receive(t, 'acme/app:abc', 'sha256:' + hex('e'), { manifest: '[]', gzip: true, discard: [hex('1')], sends: [{ blob: hex('2'), from: 3, size: 7 }], load: [{ blob: hex('2'), size: 7 }] });
    assert.equal(recv.mutates, true);
    assert.ok(recv.argv.at(-1)!.endsWith(`'[]' gzip --discard ${hex('1')} --from ${hex('2')}:3 --load ${hex('2')}:7`));
  });
});

describe('blobTarStream', () => {
  it('streams each blob from its offset as one tar entry, gzip\'d, and counts the bytes that leave', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-blobs-'));
    const out = mkdtempSync(join(tmpdir(), 'berth-blobs-out-'));
    try {
      mkdirSync(join(dir, 'blobs'));
      const a = Buffer.alloc(70_000, 'a');
      const b = Buffer.from(createHash('sha256').update('x').digest('hex').repeat(100));
      writeFileSync(join(dir, 'blobs', hex('a')), a);
      writeFileSync(join(dir, 'blobs', hex('b')), b);
      let counted = 0;
      let gz = 0;
      const stream = blobTarStream(dir, [{ blob: hex('a'), from: 65_000, size: a.length }, { blob: hex('b'), from: 0, size: b.length }], (n) => (counted = n));
      stream.on('data', (d: Buffer) => (gz += d.length));
      await new Promise<void>((res, rej) => {
        const x = tarFs.extract(out);
        x.on('finish', () => res());
        x.on('error', rej);
        stream.pipe(createGunzip()).pipe(x as unknown as NodeJS.WritableStream);
      });
      assert.deepEqual(readdirSync(out).sort(), [hex('a'), hex('b')]);
      assert.deepEqual(readFileSync(join(out, hex('a'))), a.subarray(65_000));
      assert.deepEqual(readFileSync(join(out, hex('b'))), b);
      assert.equal(counted, gz);
      assert.ok(gz < 5000 + b.length, `gzip'd: ${gz}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('the manifest is a docker-archive manifest.json', () => {
    const img = image([1]);
    assert.equal(shipManifest(img), `[{"Config":"${img.config}","RepoTags":null,"Layers":["${img.layers[0]!.blob}"]}]`);
  });
});
