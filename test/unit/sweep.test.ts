import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leftovers } from '../e2e/support/sweep.ts';
import { resetAppScript } from '../e2e/support/project.ts';

test('the sweep removes every leftover app, page server and app stack, never the edge or an unsafe name', () => {
  const listing = [
    'app berth-e2e-x1y2',
    'app berth-e2e-x1y2',
    'app wombatworkouts',
    'app $(reboot)',
    'app ',
    'maintenance 0123456789ab',
    'maintenance ;rm',
    'stack berth-swarmy',
    'stack berth-edge',
    'stack other',
    '',
  ].join('\n');
  assert.deepEqual(leftovers(listing), {
    apps: ['berth-e2e-x1y2', 'wombatworkouts'],
    containers: ['0123456789ab'],
    stacks: ['berth-swarmy'],
  });
  assert.deepEqual(leftovers(''), { apps: [], containers: [], stacks: [] });
});

test('an app is reset by its compose project (underscores become dashes) and its state paths', () => {
  const s = resetAppScript('zen_miner');
  assert.match(s, /label=com\.docker\.compose\.project=berth-zen-miner /);
  assert.match(s, /rm -rf \/var\/lib\/berth\/apps\/zen_miner \/etc\/berth\/zen_miner /);
});
