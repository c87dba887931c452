// Golden files of the example project (apps/, shared/edge.yml, hosts.json at the repo root):
// every rendered file must equal test/golden/<app|edge>/<file>. Update with BERTH_UPDATE_GOLDEN=1.
// When the docker compose CLI is available, each golden compose file must pass `compose config`.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../../src/config/load.ts';
import { renderApp } from '../../src/plan/render-app.ts';
import { renderEdge } from '../../src/plan/render-edge.ts';
import type { RenderedFile } from '../../src/plan/types.ts';
import { interpolated } from './plan-fixtures.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const goldenDir = join(repo, 'test', 'golden');
const update = process.env.BERTH_UPDATE_GOLDEN === '1';
const RELEASE = 'golden1';

const project = await loadProject(repo, { env: {} });

function checkGolden(dir: string, files: RenderedFile[]) {
  for (const f of files) {
    const path = join(goldenDir, dir, f.path);
    if (update) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.content);
      continue;
    }
    assert.ok(existsSync(path), `missing golden ${path} (run with BERTH_UPDATE_GOLDEN=1)`);
    assert.equal(f.content, readFileSync(path, 'utf8'), `${dir}/${f.path} differs from its golden file (BERTH_UPDATE_GOLDEN=1 to accept)`);
  }
}

for (const name of ['running_calendar', 'wombatworkouts', 'zen_miner']) {
  test(`golden: ${name}`, () => {
    const app = project.apps.find((a) => a.name === name);
    assert.ok(app, `example app ${name} exists`);
    const r = renderApp(project, app, { release: RELEASE });
    checkGolden(name, r.files);
    // Determinism: a second render is byte-identical and hashes the same.
    const again = renderApp(project, app, { release: RELEASE });
    assert.deepEqual(again, r);
  });
}

test('golden: edge', () => {
  const r = renderEdge(project);
  checkGolden('edge', r.files);
  assert.deepEqual(renderEdge(project), r);
});

function composeAvailable(): boolean {
  const r = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  return r.status === 0;
}

const composeFiles = ['running_calendar', 'wombatworkouts', 'zen_miner', 'edge'].map((d) => join(goldenDir, d, 'compose.yml'));

test('golden compose files pass `docker compose config`', { skip: !composeAvailable() && 'docker compose CLI not available' }, () => {
  for (const file of composeFiles) {
    const text = readFileSync(file, 'utf8');
    // Secret values reach compose through its environment, as in a deploy: give each a dummy.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    for (const n of interpolated(text)) env[n] = 'dummy-value';
    // --no-path-resolution: bind sources are host paths on the server, not relative to this checkout.
    execFileSync('docker', ['compose', '-f', file, 'config', '--quiet', '--no-path-resolution'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // And with no secret at all (a reviewer checking compose/): accepted too, and no value appears.
    const bare = spawnSync('docker', ['compose', '-f', file, 'config', '--quiet', '--no-path-resolution'], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, encoding: 'utf8' });
    assert.equal(bare.status, 0, `${file}: ${bare.stderr}`);
  }
});
