// The e2e lanes run side by side: no machine may belong to two lanes, every lane's machines are
// brought up by sandbox:up, and every e2e file lands in exactly the lane its name says.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SANDBOX_BARE_HOSTS, SANDBOX_HOSTS } from '../../src/sandbox/config.ts';
import { LANES, laneOf, laneOrder } from '../e2e/lanes.ts';

test('lanes own disjoint machines, all of them started by sandbox:up', () => {
  const owners = new Map<string, string>();
  for (const lane of LANES) {
    for (const h of lane.hosts) {
      assert.equal(owners.get(h), undefined, `${h} is in lanes ${owners.get(h)} and ${lane.name}`);
      owners.set(h, lane.name);
      assert.ok(SANDBOX_HOSTS.includes(h), `${h} (lane ${lane.name}) is not among the sandbox hosts ${SANDBOX_HOSTS.join(',')}`);
    }
  }
  assert.ok(SANDBOX_BARE_HOSTS.includes('h13'), 'the fresh lane starts from a bare server');
});

test('each e2e file goes to the lane its prefix names; the rest to main', () => {
  const files = readdirSync(join(import.meta.dirname, '..', 'e2e')).filter((f) => f.endsWith('.test.ts'));
  assert.equal(laneOf('test/e2e/setup.test.ts').name, 'fresh');
  assert.equal(laneOf('hardening.test.ts').name, 'fresh');
  assert.equal(laneOf('swarm-rails.test.ts').name, 'swarm');
  assert.equal(laneOf('seed-running_calendar.test.ts').name, 'main');
  assert.equal(laneOf('build.test.ts').name, 'transfer');
  assert.equal(laneOf('releases.test.ts').name, 'transfer');
  for (const lane of LANES) assert.ok(files.some((f) => laneOf(f).name === lane.name), `lane ${lane.name} has no files`);
});

test('a lane runs its files alphabetically, its late files last in their own order', () => {
  const main = LANES.find((l) => l.name === 'main')!;
  const files = ['test/e2e/zero-downtime.test.ts', 'test/e2e/build.test.ts', 'test/e2e/deploy.test.ts', 'test/e2e/kamal.test.ts', 'test/e2e/faults.test.ts'];
  assert.deepEqual(laneOrder(main, files).map((f) => f.replace('test/e2e/', '')), ['build.test.ts', 'kamal.test.ts', 'faults.test.ts', 'zero-downtime.test.ts', 'deploy.test.ts']);
  const all = readdirSync(join(import.meta.dirname, '..', 'e2e'));
  for (const f of main.late ?? []) assert.ok(all.includes(f), `late file ${f} exists`);
});
