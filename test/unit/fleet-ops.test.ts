import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prefixLines } from '../../src/app/ops.ts';
import { firstPositional } from '../../src/cli/commands.ts';
import { formatFleetReport } from '../../src/plan/fleet-report.ts';

test('a deploy that stopped part-way says which host runs which release', () => {
  const text = formatFleetReport('shop', 'v2-abc', 'h2', 'web-green on h2 is not healthy: health check failed', [
    { host: 'h1', live: 'v2-abc', colour: 'green', outcome: 'deployed' },
    { host: 'h2', live: 'v1-xyz', colour: 'blue', outcome: 'failed' },
    { host: 'h3', live: 'v1-xyz', colour: 'blue', outcome: 'not attempted' },
    { host: 'h10', outcome: 'not attempted', unknown: 'unreachable: ssh: connect timed out' },
  ]);
  const lines = text.split('\n');
  assert.equal(lines[0], 'deploy of shop v2-abc stopped at h2: web-green on h2 is not healthy: health check failed');
  assert.equal(lines[1], '1 of 4 hosts run v2-abc; host by host:');
  assert.equal(lines[2], '  h1   runs v2-abc (green) — new release, deployed now');
  assert.equal(lines[3], '  h2   runs v1-xyz (blue) — deploy failed here; its previous release keeps serving');
  assert.equal(lines[4], '  h3   runs v1-xyz (blue) — not attempted');
  assert.equal(lines[5], '  h10  runs unknown (unreachable: ssh: connect timed out) — not attempted');
  assert.match(lines[6]!, /rerun the deploy/);
});

test('a pulled release counts per host with its image id appended', () => {
  const text = formatFleetReport('shop', 'v2-abc', 'h2', 'boom', [
    { host: 'h1', live: 'v2-abc-1234567890ab', colour: 'green', outcome: 'deployed' },
    { host: 'h2', live: 'v2-abcd-1234567890ab', colour: 'blue', outcome: 'failed' },
  ]);
  assert.match(text, /^1 of 2 hosts run v2-abc;/m);
});

test('a host that never had the app says so', () => {
  const text = formatFleetReport('shop', 'v1-a', 'h1', 'boom', [{ host: 'h1', outcome: 'failed' }]);
  assert.match(text, /h1 {2}runs nothing \(not deployed\) — deploy failed here/);
  assert.match(text, /0 of 1 hosts run v1-a/);
});

test('output from several hosts keeps its host on every line', () => {
  assert.equal(prefixLines('h2', 'a\nb\n'), 'h2 | a\nh2 | b');
  assert.equal(prefixLines('h1', ''), '');
});

test('flags before <app> (with --host taking a value) are told apart from the command after it', () => {
  assert.equal(firstPositional(['--host', 'h2', 'shop', 'ls', '-la'], ['--host']), 2);
  assert.equal(firstPositional(['-i', 'shop', '--host', 'x'], ['--host']), 1);
  assert.equal(firstPositional(['--host', 'h2'], ['--host']), -1);
});

test('--host picks one of the app\'s hosts and names the app\'s hosts when it is not one', async () => {
  const { makeApp, makeProject } = await import('./plan-fixtures.ts');
  const { selectOpsHosts } = await import('../../src/app/ops.ts');
  const app = makeApp('shop', { image: 'shop', roles: ['web', 'db'], port: 80 });
  const project = makeProject([app]);
  assert.deepEqual(selectOpsHosts(project, app), ['h1', 'h2']);
  assert.deepEqual(selectOpsHosts(project, app, 'h2'), ['h2']);
  assert.throws(() => selectOpsHosts(project, makeApp('web', { image: 'w', roles: ['web'], port: 80 }), 'h2'), /web does not run on "h2" \(its hosts: h1\)/);
});
