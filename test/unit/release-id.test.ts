// The release id follows what runs (build context revision, or the pulled image's id), never the
// Berth project's own HEAD; the no-op answer respects the lock; stale locks are judged by heartbeat.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sourceRevision } from '../../src/app/source-revision.ts';
import { type AppState, parseObservation } from '../../src/exec/state.ts';
import { planDeploy } from '../../src/plan/deploy-plan.ts';
import { judgeLock, staleAfterSeconds } from '../../src/plan/lock-policy.ts';
import { chooseReleaseTag, PLAN_BUILD_TAG, releaseId, revisionTag } from '../../src/plan/release-id.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test('a built image is released by its build context revision; a dirty tree gets its own tag', () => {
  const src = { commit: '3f2a9c1' };
  assert.deepEqual(chooseReleaseTag({ builds: true, source: src }), { tag: '3f2a9c1', source: 'build context' });
  assert.equal(chooseReleaseTag({ builds: true, source: { commit: '3f2a9c1', dirtyHash: '5e0b7d12aaaa' } }).tag, '3f2a9c1-dirty-5e0b7d12');
  // A tag written in app.yml does not freeze the release of an image Berth builds.
  assert.equal(chooseReleaseTag({ builds: true, imageTag: 'v1', source: src }).tag, '3f2a9c1');
  assert.equal(chooseReleaseTag({ builds: true, explicit: 'r9', source: src }).tag, 'r9', '--release wins');
});

test('offline (plan): placeholder for builds, the written tag or "latest" for pulls', () => {
  assert.deepEqual(chooseReleaseTag({ builds: true }), { tag: PLAN_BUILD_TAG, source: 'build context' });
  assert.deepEqual(chooseReleaseTag({ builds: false, imageTag: '2.4.1' }), { tag: '2.4.1', source: 'image tag' });
  assert.deepEqual(chooseReleaseTag({ builds: false }), { tag: 'latest', source: 'default' });
});

test('a pulled image\'s id is part of the release id: a moved tag is a new release', () => {
  const a = releaseId('v1', '0123456789abcdef', 'sha256:aaaaaaaaaaaa1111');
  const b = releaseId('v1', '0123456789abcdef', 'sha256:bbbbbbbbbbbb1111');
  assert.equal(a, 'v1-0123456789-aaaaaaaaaaaa');
  assert.notEqual(a, b);
  assert.equal(releaseId('v1', '0123456789abcdef'), 'v1-0123456789');
  assert.match(revisionTag({ commit: 'abc1234', dirtyHash: 'ffffffffffff' }), /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'a valid image tag');
});

test('sourceRevision: commit of the context, a stable dirty hash, a new one per edit; undefined outside git', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rel-src-'));
  dirs.push(dir);
  assert.equal(await sourceRevision(dir), undefined);
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...a], { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '-q');
  writeFileSync(join(dir, 'Dockerfile'), 'FROM x\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'one');
  const head = git('rev-parse', '--short', 'HEAD');
  assert.deepEqual(await sourceRevision(dir), { commit: head });
  writeFileSync(join(dir, 'Dockerfile'), 'FROM y\n');
  const d1 = await sourceRevision(dir);
  assert.equal(d1?.commit, head);
  assert.match(d1?.dirtyHash ?? '', /^[0-9a-f]{12}$/);
  assert.deepEqual(await sourceRevision(dir), d1, 'the same edits give the same id (a rerun converges)');
  writeFileSync(join(dir, 'new.txt'), 'untracked\n');
  assert.notEqual((await sourceRevision(dir))?.dirtyHash, d1?.dirtyHash, 'an untracked file is a change');
  git('add', '-A');
  git('commit', '-q', '-m', 'two');
  assert.deepEqual(await sourceRevision(dir), { commit: git('rev-parse', '--short', 'HEAD') });
});

const live = (lock?: string): AppState =>
  parseObservation(
    [
      '--lock', ...(lock ? [lock] : []),
      '--current', JSON.stringify({ release: 'v1-a', colour: 'blue', previous: null, switchedAt: 'x' }),
      '--releases', JSON.stringify({ id: 'v1-a', app: 'shop', tag: 'v1', image: 'shop:v1', colour: 'blue', configHash: 'h', secretsHash: 'S', createdAt: '1', host: 'h1' }),
      '--containers', JSON.stringify({ ID: 'aaa', Names: 'x', State: 'running', Status: 'Up (healthy)', Labels: 'com.docker.compose.service=web-blue,berth.secrets=S' }),
      '--image', 'sha256:abc',
      '--lock',
      '--end',
    ].join('\n'),
  );

test('"nothing changed" is only answered without the lock when nobody held it around the read', () => {
  assert.equal(live().imageId, 'sha256:abc');
  assert.equal(planDeploy(live(), 'v1-a', 'S').kind, 'noop');
  const busy = live('{"user":"bob","machine":"m2","pid":1}');
  assert.equal(busy.lockHolder, '{"user":"bob","machine":"m2","pid":1}');
  assert.equal(planDeploy(busy, 'v1-a', 'S').kind, 'deploy', 'another deploy holds the lock: decide under the lock');
  assert.equal(planDeploy(busy, 'v1-a', 'S', { underLock: true }).kind, 'noop', 'under our own lock the answer is final');
});

test('a lock is taken over after a few missed heartbeats, not before', () => {
  const limit = staleAfterSeconds();
  assert.ok(limit <= 60, `taken over within a minute (${limit}s)`);
  assert.equal(judgeLock({ nowSeconds: 1000, beatSeconds: 1000 - limit }).takeOver, false);
  assert.equal(judgeLock({ nowSeconds: 1000, beatSeconds: 990 }).takeOver, false, 'a live heartbeat is respected');
  assert.equal(judgeLock({ nowSeconds: 1000, beatSeconds: 999 - limit }).takeOver, true);
  assert.match(judgeLock({ nowSeconds: 1000, beatSeconds: 0 }).reason, /heartbeat stopped 1000s ago/);
  assert.equal(judgeLock({ nowSeconds: 1000, beatSeconds: 1000, holderProcessGone: true }).takeOver, true, 'a dead local process needs no wait');
  assert.equal(judgeLock({ nowSeconds: 1000, beatSeconds: 1200 }).takeOver, false, 'a beat from the future (clock step) is alive');
  assert.equal(judgeLock({ nowSeconds: 100, beatSeconds: 50 }, { heartbeatSeconds: 5, missedBeats: 3 }).takeOver, true, 'the policy is a parameter');
});
