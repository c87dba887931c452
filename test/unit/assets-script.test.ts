// The asset-bridging host script, run for real with sh and coreutils in a temp directory; only the
// `docker` it calls is a stand-in (images are folders), so the merge, keep and prune logic is what runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ASSETS_MISSING_EXIT, hostScripts } from '../../src/exec/host-scripts.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-assets-script-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const root = join(dir, 'assets');
const images = join(dir, 'images');
const bin = join(dir, 'bin');
mkdirSync(bin);
// docker image inspect <img> | create <img> | cp <ctr>:<path>/. <dest> | rm -f <ctr>; an image is images/<img with : and / as _>.
writeFileSync(join(bin, 'docker'), `#!/bin/sh
enc() { printf '%s' "$1" | tr ':/' '__'; }
case "$1" in
  image) img=$(enc "$5"); [ -d "${images}/$img" ] || exit 1; echo "sha256:$img-$(cat "${images}/$img.id" 2>/dev/null)";;
  create) img=$(enc "$2"); [ -d "${images}/$img" ] || exit 1; echo "ctr-$img";;
  cp) ctr="\${2%%:*}"; path="\${2#*:}"; cp -a "${images}/\${ctr#ctr-}$path" "$3" 2>/dev/null || exit 1;;
  rm) exit 0;;
  *) exit 2;;
esac
`);
chmodSync(join(bin, 'docker'), 0o755);

function image(ref: string, files: Record<string, string>, id = '1') {
  const d = join(images, ref.replace(/[:/]/g, '_'));
  rmSync(d, { recursive: true, force: true });
  mkdirSync(join(d, 'app/assets'), { recursive: true });
  for (const [f, c] of Object.entries(files)) writeFileSync(join(d, 'app/assets', f), c);
  writeFileSync(`${d}.id`, id);
}

function prepare(...pairs: string[]) {
  const cmd = hostScripts.prepareAssets({ host: 'x', user: 'root', port: 22 } as never, root, '/app/assets', pairs).argv.at(-1)!;
  return spawnSync('sh', ['-c', cmd], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
}
const ls = (p: string) => readdirSync(join(root, p)).filter((f) => !f.startsWith('.')).sort();
const read = (p: string) => readFileSync(join(root, p), 'utf8');

test('first release: its assets, extracted and mounted', () => {
  image('reg/shop:v1', { 'app-aaa.css': 'v1 css', 'manifest.json': 'v1 manifest' });
  const r = prepare('v1', 'reg/shop:v1');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /assets v1: 2 files from v1 \(pruned 0\)/);
  assert.deepEqual(ls('volumes/v1'), ['app-aaa.css', 'manifest.json']);
});

test('next release: the old assets bridged, its own files win a clash, the old folder untouched, hard links', () => {
  image('reg/shop:v2', { 'app-bbb.css': 'v2 css', 'manifest.json': 'v2 manifest' });
  const r = prepare('v1', 'reg/shop:v1', 'v2', 'reg/shop:v2');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.deepEqual(ls('volumes/v2'), ['app-aaa.css', 'app-bbb.css', 'manifest.json']);
  assert.equal(read('volumes/v2/app-aaa.css'), 'v1 css');
  assert.equal(read('volumes/v2/manifest.json'), 'v2 manifest');
  assert.equal(read('volumes/v1/manifest.json'), 'v1 manifest', 'the live colour\'s folder keeps its own manifest');
  assert.equal(statSync(join(root, 'volumes/v2/app-aaa.css')).ino, statSync(join(root, 'extracted/v1/app-aaa.css')).ino, 'hard link, no copy');
});

test('a release whose image is gone from the host still bridges what was extracted', () => {
  rmSync(join(images, 'reg_shop_v1'), { recursive: true });
  image('reg/shop:v3', { 'app-ccc.css': 'v3 css' });
  const r = prepare('v1', 'reg/shop:v1', 'v2', 'reg/shop:v2', 'v3', 'reg/shop:v3');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.deepEqual(ls('volumes/v3'), ['app-aaa.css', 'app-bbb.css', 'app-ccc.css', 'manifest.json']);
});

test('releases no longer kept are pruned, folders and extracted copies', () => {
  const r = prepare('v2', 'reg/shop:v2', 'v3', 'reg/shop:v3');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.deepEqual(ls('extracted'), ['v2', 'v3']);
  assert.deepEqual(ls('volumes'), ['v2', 'v3']);
  assert.match(r.stdout, /pruned 2/);
  assert.ok(!readdirSync(join(root, 'extracted')).includes('.v1.image'));
});

test('the same tag rebuilt (another image id) is extracted again and merged in place', () => {
  image('reg/shop:v3', { 'app-ccc2.css': 'v3 rebuilt' }, '2');
  const r = prepare('v2', 'reg/shop:v2', 'v3', 'reg/shop:v3');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.deepEqual(ls('extracted/v3'), ['app-ccc2.css']);
  assert.ok(ls('volumes/v3').includes('app-ccc2.css'));
});

test('a target image without the asset directory fails before pruning anything', () => {
  const d = join(images, 'reg_shop_v4');
  mkdirSync(d, { recursive: true });
  const r = prepare('v3', 'reg/shop:v3', 'v4', 'reg/shop:v4');
  assert.equal(r.status, ASSETS_MISSING_EXIT);
  assert.match(r.stdout, /cannot copy \/app\/assets out of reg\/shop:v4/);
  assert.deepEqual(ls('extracted'), ['v2', 'v3'], 'nothing pruned');
  assert.ok(!ls('volumes').includes('v4'));
});

test('names reach the script as arguments, never as shell text', () => {
  const r = prepare('v5', 'reg/shop:$(touch pwned)');
  assert.equal(r.status, ASSETS_MISSING_EXIT);
  assert.throws(() => statSync('pwned'));
});
