// The operator machine's Compose version, read through the npm `docker-compose` package (setup checks it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { localComposeVersion } from '../../src/docker/compose-version.ts';
import { MIN_COMPOSE, versionAtLeast } from '../../src/plan/render-provision.ts';

test('reads this machine\'s docker compose version as the CLI reports it', async () => {
  const direct = spawnSync('docker', ['compose', 'version', '--short'], { encoding: 'utf8' });
  if (direct.status !== 0) {
    // No Compose here (unit tests before sandbox:up): the wrapper must fail with a real Error, not an object.
    await assert.rejects(localComposeVersion(), (e) => e instanceof Error && /docker compose version failed|ENOENT/.test(e.message));
    return;
  }
  const v = await localComposeVersion();
  assert.equal(v, direct.stdout.trim().replace(/^v/, ''));
  assert.ok(versionAtLeast(v, MIN_COMPOSE), `${v} ≥ ${MIN_COMPOSE}`);
});

test('a missing docker executable is a real Error naming the cause', async () => {
  await assert.rejects(localComposeVersion('/nonexistent/docker'), (e) => e instanceof Error && /ENOENT|failed/.test(e.message));
});
