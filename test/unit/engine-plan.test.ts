// Pure deploy/rollback decisions and the parsing of what a host reports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitCommand } from '../../src/docker/command.ts';
import { formatSecretsEnv, parseSecretsEnv, secretsDigest } from '../../src/exec/secrets-file.ts';
import { type AppState, parseObservation, type ReleaseRecord } from '../../src/exec/state.ts';
import { planDeploy, planRollback, releaseId } from '../../src/plan/deploy-plan.ts';

const rec = (id: string, colour: 'blue' | 'green', createdAt: string, containerId?: string): ReleaseRecord => ({
  id, app: 'shop', tag: id.split('-')[0]!, image: `shop:${id}`, colour, configHash: 'h', secretsHash: 'S', createdAt, host: 'h1', containerId,
});

const ps = (service: string, id: string, state = 'running', status = 'Up 1 minute (healthy)') =>
  JSON.stringify({ ID: id, Names: `berth-shop-${service}-1`, State: state, Status: status, Labels: `com.docker.compose.service=${service},berth.app=shop` });

function observed(current: object | null, releases: ReleaseRecord[], containers: string[]): AppState {
  const out = ['--current', current ? JSON.stringify(current, null, 2) : '', '--releases', ...releases.map((r) => JSON.stringify(r)), '--containers', ...containers, '--end'].join('\n');
  return parseObservation(out);
}

test('first deploy goes to blue', () => {
  assert.deepEqual(planDeploy(observed(null, [], []), 'v1-abc', 'S'), { kind: 'deploy', colour: 'blue', live: null });
});

test('a new release goes to the idle colour and retires the live one', () => {
  const s = observed({ release: 'v1-a', colour: 'blue', previous: null, switchedAt: 'x' }, [rec('v1-a', 'blue', '1')], [ps('web-blue', 'aaa')]);
  assert.deepEqual(planDeploy(s, 'v2-b', 'S'), { kind: 'deploy', colour: 'green', live: { colour: 'blue', release: 'v1-a', containerId: 'aaa' } });
});

test('the same release, same secrets, healthy: nothing to do', () => {
  const s = observed({ release: 'v1-a', colour: 'blue', previous: null, switchedAt: 'x' }, [rec('v1-a', 'blue', '1')], [ps('web-blue', 'aaa')]);
  assert.equal(planDeploy(s, 'v1-a', 'S').kind, 'noop');
  assert.equal(planDeploy(s, 'v1-a', 'CHANGED').kind, 'deploy', 'a changed secret value is a change');
  const down = observed({ release: 'v1-a', colour: 'blue', previous: null, switchedAt: 'x' }, [rec('v1-a', 'blue', '1')], [ps('web-blue', 'aaa', 'exited', 'Exited (1)')]);
  assert.equal(planDeploy(down, 'v1-a', 'S').kind, 'deploy', 'a dead live container is redeployed');
});

test('release ids change with config', () => {
  assert.notEqual(releaseId('v1', 'aaaaaaaaaaaa1'), releaseId('v1', 'bbbbbbbbbbbb1'));
  assert.equal(releaseId('v1', '0123456789abcdef'), 'v1-0123456789');
});

test('rollback picks the previous release and reuses its container when it is still there', () => {
  const s = observed(
    { release: 'v2-b', colour: 'green', previous: { release: 'v1-a', colour: 'blue' }, switchedAt: 'x' },
    [rec('v2-b', 'green', '2', 'ggg'), rec('v1-a', 'blue', '1', 'bbbbbbbbbbbb')],
    [ps('web-blue', 'bbbbbbbbbbbb', 'exited', 'Exited (0)'), ps('web-green', 'ggg')],
  );
  const d = planRollback(s);
  assert.equal(d.kind, 'rollback');
  if (d.kind !== 'rollback') return;
  assert.equal(d.target.id, 'v1-a');
  assert.equal(d.colour, 'blue');
  assert.equal(d.reuse, true);
  assert.equal(d.live.containerId, 'ggg');
});

test('rollback refuses with a reason', () => {
  assert.equal(planRollback(observed(null, [], [])).kind, 'refuse');
  const s = observed({ release: 'v1-a', colour: 'blue', previous: null, switchedAt: 'x' }, [rec('v1-a', 'blue', '1')], []);
  const d = planRollback(s);
  assert.equal(d.kind, 'refuse');
  if (d.kind === 'refuse') assert.match(d.reason, /--to/);
  const unknown = planRollback(s, 'nope');
  assert.equal(unknown.kind, 'refuse');
  if (unknown.kind === 'refuse') assert.match(unknown.reason, /known: v1-a/);
});

test('container health is read from docker ps status', () => {
  const s = observed(null, [], [ps('web-blue', '1', 'running', 'Up 3 seconds (health: starting)'), ps('web-green', '2', 'running', 'Up 1 minute (unhealthy)')]);
  assert.equal(s.containers[0]!.health, 'starting');
  assert.equal(s.containers[1]!.health, 'unhealthy');
  assert.equal(s.containers[1]!.service, 'web-green');
});

test('a half-written release record is ignored', () => {
  const s = parseObservation('--current\n--releases\n{"id": "v1"\n--containers\n--end\n');
  assert.deepEqual(s.releases, []);
});

test('secrets env file round-trips any value', () => {
  const v = { B: 'with "quotes" and \\ and $dollar', A: 'line1\nline2', C: "it's" };
  const text = formatSecretsEnv(v);
  assert.match(text, /^A=/);
  assert.deepEqual(parseSecretsEnv(text), v);
  assert.notEqual(secretsDigest(v), secretsDigest({ ...v, A: 'x' }));
});

test('release commands split like a shell would, without expansion', () => {
  assert.deepEqual(splitCommand('bin/rails db:prepare'), ['bin/rails', 'db:prepare']);
  assert.deepEqual(splitCommand(`sh -c "echo \\"hi\\" && true" 'a b'`), ['sh', '-c', 'echo "hi" && true', 'a b']);
});
