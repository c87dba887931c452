// The switch's host-side script (SWITCH_ROUTE), run through sh against a scripted `curl` standing
// in for Traefik's API and a `mv` that logs its arguments: the route is staged outside the watched
// directory and renamed in, the API is polled until it reports exactly the new server, the records
// are written only then, and a route Traefik never reports fails within the time limit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chainScripts, installStagedPart, SWITCH_ROUTE, switchRoutePart, THEN_MARKER } from '../../src/exec/host-scripts.ts';

const WANT = 'http://shop-web-green:80';
const OLD = 'http://shop-web-blue:80';
const answer = (...urls: string[]) => JSON.stringify({ loadBalancer: { servers: urls.map((url) => ({ url })) }, status: 'enabled' });

/**
 * `curlVersion` 8.x takes the one-process path (--rate, a glob of tries), 7.68 the loop; the API
 * answers `before` (old server, or both during a reload) for the first `lag` requests, then `after`.
 */
function switchRoute(o: { curlVersion: string; lag: number; after?: string; secs?: number; record?: boolean; staged?: boolean }) {
  const root = mkdtempSync(join(tmpdir(), 'berth-switch-'));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  const edge = join(root, 'edge');
  mkdirSync(join(edge, 'dynamic'), { recursive: true });
  writeFileSync(join(edge, 'dynamic', 'shop.yml'), 'old route\n');
  writeFileSync(join(root, 'before'), answer(OLD, WANT) + '\n');
  writeFileSync(join(root, 'after'), (o.after ?? answer(WANT)) + '\n');
  writeFileSync(
    join(bin, 'curl'),
    `#!/bin/sh
[ "$1" = -V ] && { echo "curl ${o.curlVersion} (x86_64-pc-linux-gnu)"; exit 0; }
n=$(wc -l < ${root}/calls 2>/dev/null || echo 0)
# One answer (no newline: -w adds it in the one-process mode), counted one line each in ${root}/calls
# (appended, so a poller killed mid-count never loses the count).
answer() { n=$((n + 1)); echo >> ${root}/calls; if [ $n -gt ${o.lag} ]; then f=${root}/after; else f=${root}/before; fi; printf '%s' "$(cat $f)"; }
ls -A ${edge}/dynamic > ${root}/seen
case "$*" in
  # Like curl, it goes on with its list when a write fails (a closed pipe).
  *--rate*) trap '' PIPE; tries=$(echo "$*" | sed -n 's/.*\\[1-\\([0-9]*\\)\\].*/\\1/p'); i=0
    while [ $i -lt "$tries" ]; do i=$((i + 1)); answer 2>/dev/null; echo 2>/dev/null; sleep 0.01; done;;
  *) answer;;
esac
`,
  );
  writeFileSync(join(bin, 'mv'), `#!/bin/sh\necho "$@" >> ${root}/mv.log\nexec /bin/mv "$@"\n`);
  for (const f of ['curl', 'mv']) chmodSync(join(bin, f), 0o755);
  writeFileSync(join(root, 'release.env'), 'A=release-two\n');
  const rec = o.record === false ? [] : [join(root, 'rel', 'release.json'), '{"id":"r2"}', join(root, 'current.json'), '{"colour":"green"}', join(root, 'release.env'), join(root, 'secrets.env')];
  // staged: a rollback's form — the route read from a file an upload staged, no release.json, and
  // the staged files moved into place once confirmed (a part chained after the switch).
  const stage = join(root, 'stage');
  mkdirSync(stage);
  writeFileSync(join(stage, 'route.yml'), 'new route\n');
  writeFileSync(join(stage, 'litestream.yml'), 'dbs: []\n');
  const part = o.staged
    ? chainScripts(
        switchRoutePart(join(stage, 'route.yml'), join(edge, 'dynamic', 'shop.yml'), 'shop@file', WANT, o.secs ?? 10, { currentPath: join(root, 'current.json'), current: '{"colour":"green"}', envFrom: join(root, 'release.env'), envTo: join(root, 'secrets.env') }),
        installStagedPart(stage, [[join(stage, 'litestream.yml'), join(root, 'litestream.yml')]]),
      )
    : { script: SWITCH_ROUTE, args: [join(edge, 'dynamic', 'shop.yml'), 'shop@file', WANT, String(o.secs ?? 10), ...rec] };
  const t0 = Date.now();
  const r = spawnSync('sh', ['-c', part.script, 'sh', ...part.args], {
    input: o.staged ? '' : 'new route\n',
    env: { PATH: `${bin}:/usr/bin:/bin` },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const read = (f: string) => (existsSync(join(root, f)) ? readFileSync(join(root, f), 'utf8') : undefined);
  return { code: r.status, out: r.stdout.trim(), ms: Date.now() - t0, root, edge, read, calls: (read('calls') ?? '').length };
}

for (const curlVersion of ['8.14.1', '7.68.0']) {
  test(`curl ${curlVersion}: staged outside the watched directory, confirmed when the API reports only the new server, then recorded`, () => {
    const r = switchRoute({ curlVersion, lag: 3 });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^confirmed \d+$/);
    assert.ok(r.ms < 5000, `took ${r.ms} ms: the poller must stop once confirmed, not run through its 10 s of tries`);
    // Polled until the fourth answer (the first three still list the old server too); the one
    // curl process may get another request or two out before the closed pipe stops it.
    assert.ok(curlVersion.startsWith('7') ? r.calls === 4 : r.calls >= 4 && r.calls <= 7, `${r.calls} API requests`);
    assert.equal(r.read('edge/dynamic/shop.yml'), 'new route\n');
    // The only rename into dynamic/ came from the staging directory beside it; nothing else was ever there.
    const moves = r.read('mv.log')!.trim().split('\n').filter((l) => l.includes('/dynamic/'));
    assert.equal(moves.length, 1, r.read('mv.log'));
    assert.match(moves[0]!, new RegExp(`^-f ${r.edge}/\\.staging/shop\\.yml\\.\\d+ ${r.edge}/dynamic/shop\\.yml$`));
    assert.deepEqual(r.read('seen')!.trim().split('\n'), ['shop.yml']);
    assert.deepEqual(readdirSync(join(r.edge, '.staging')), []);
    assert.equal(r.read('current.json'), '{"colour":"green"}');
    assert.equal(r.read('rel/release.json'), '{"id":"r2"}');
    assert.equal(r.read('secrets.env'), 'A=release-two\n', "the release's env file is the live one once confirmed");
  });

  test(`curl ${curlVersion}: a route Traefik never reports fails within the limit, prints its last answer and records nothing`, () => {
    const r = switchRoute({ curlVersion, lag: 1_000_000, secs: 1 });
    assert.equal(r.code, 1);
    assert.equal(r.out, answer(OLD, WANT));
    assert.ok(r.ms < 8000, `took ${r.ms} ms`);
    assert.equal(r.read('current.json'), undefined);
    assert.equal(r.read('secrets.env'), undefined);
  });
}

test('a server URL that only starts like the wanted one is not a confirmation', () => {
  const r = switchRoute({ curlVersion: '8.14.1', lag: 0, after: answer(`${WANT}0`), secs: 1, record: false });
  assert.equal(r.code, 1);
});

test('staged (a rollback): the route comes from the staged file, current.json and the env file are recorded without a release.json, then the staged files move into place', () => {
  const r = switchRoute({ curlVersion: '8.14.1', lag: 2, staged: true });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`^confirmed \\d+\\n${THEN_MARKER}$`));
  assert.equal(r.read('edge/dynamic/shop.yml'), 'new route\n');
  assert.equal(r.read('current.json'), '{"colour":"green"}');
  assert.equal(r.read('secrets.env'), 'A=release-two\n');
  assert.equal(r.read('rel/release.json'), undefined);
  assert.equal(r.read('litestream.yml'), 'dbs: []\n');
  assert.equal(existsSync(join(r.root, 'stage')), false, 'the staging directory is removed');
});

test('staged: a switch Traefik never confirms records nothing and moves nothing', () => {
  const r = switchRoute({ curlVersion: '8.14.1', lag: 1_000_000, secs: 1, staged: true });
  assert.equal(r.code, 1);
  assert.equal(r.read('current.json'), undefined);
  assert.equal(r.read('litestream.yml'), undefined);
  assert.equal(r.read('stage/litestream.yml'), 'dbs: []\n');
});
