// Errors name the real cause: a phase that fails while its host does not answer is a lost
// connection (host, phase, state left); a failed phase is never logged as done; a deploy that lost
// its connection after the switch is finished by the next run; log tails carry no control codes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { phases } from '../../src/app/deps.ts';
import { leftState } from '../../src/app/deploy.ts';
import { ConnectionLostError, formatError, HealthError, LockError } from '../../src/errors.ts';
import { type ReleaseRecord, parseObservation } from '../../src/exec/state.ts';
import { stripAnsi } from '../../src/log/ansi.ts';
import { formatEvent } from '../../src/log/events.ts';
import { createLogger } from '../../src/log/logger.ts';
import { planDeploy, releaseId } from '../../src/plan/deploy-plan.ts';

function logger() {
  const lines: string[] = [];
  const log = createLogger({ style: 'ci', sink: { err: (l) => lines.push(l), out: (l) => lines.push(l) }, clock: () => 0 });
  return { log, lines };
}

test('a phase that throws is logged as failed, never as done', async () => {
  const { log, lines } = logger();
  const { phase } = phases(log, 'h1');
  await phase('upload', async () => 1);
  await assert.rejects(phase('release command', async () => { throw new Error('boom'); }), /boom/);
  assert.deepEqual(lines, ['--- h1: upload', '--- done: h1: upload (0ms)', '--- h1: release command', '--- FAILED: h1: release command (0ms)']);
  assert.equal(formatEvent({ kind: 'step-end', name: 'x', ms: 5, failed: true }, 'terminal'), '✗ x (5ms)');
});

test('a failure while the host does not answer is reported as a lost connection, with host, phase and state', async () => {
  const { log } = logger();
  const { phase } = phases(log, 'h1', { reachable: async () => false, leftState: (p) => `state after ${p}` });
  // What each phase reported before: a lock "held by unknown", a health timeout, a failed release command.
  for (const err of [new LockError('app on h1', 'unknown (lock script failed: )', 'ssh … rm -rf …'), new HealthError('web-green', 'h1', 'did not become healthy within 2s')]) {
    const e = await phase('lock', async () => { throw err; }).catch((x: unknown) => x);
    assert.ok(e instanceof ConnectionLostError, String(e));
    assert.equal(e.host, 'h1');
    assert.equal(e.phase, 'lock');
    assert.match(e.message, /lost the SSH connection to h1 during "lock".*state after lock/);
    assert.doesNotMatch(formatError(e), /rm -rf|held by|not healthy/, 'the misleading cause is not printed without --verbose');
    assert.match(formatError(e, true), /caused by/, '--verbose keeps it');
  }
});

test('a failure while the host answers keeps its own error', async () => {
  const { log } = logger();
  const { phase } = phases(log, 'h1', { reachable: async () => true, leftState: () => 'x' });
  await assert.rejects(phase('release command', async () => { throw new HealthError('web-green', 'h1', 'crashed'); }), HealthError);
});

test('the state left names what serves', () => {
  const live = { release: 'v1-a', colour: 'blue' as const };
  assert.match(leftState('start + health', 'v2-b', { live, colour: 'green' }), /Nothing switched: the old release v1-a keeps serving on blue/);
  assert.match(leftState('lock', 'v1-a', { live: null, colour: 'blue' }), /nothing was serving yet/);
  assert.match(leftState('switch', 'v2-b', { live, colour: 'green' }), /may or may not/);
  assert.match(leftState('record', 'v2-b', { live, colour: 'green', switched: true }), /new release v2-b is live on green; the old colour blue keeps running until the rerun or the next deploy retires it/);
});

const rec = (id: string, colour: 'blue' | 'green', containerId?: string): ReleaseRecord => ({ id, app: 'shop', tag: id.split('-')[0]!, image: `shop:${id}`, colour, configHash: 'h', secretsHash: 'S', createdAt: id, host: 'h1', containerId });
const ps = (service: string, id: string, release: string, hash: string, state = 'running', status = 'Up 1 minute (healthy)') =>
  JSON.stringify({ ID: id, Names: `berth-shop-${service}-1`, State: state, Status: status, Labels: `com.docker.compose.service=${service},berth.app=shop,berth.release=${release},berth.config-hash=${hash},berth.secrets=S` });
const observe = (current: object, releases: ReleaseRecord[], containers: string[], route: string, retiring: string[] = []) =>
  parseObservation(['--route', route, '--retiring', ...retiring, '--current', JSON.stringify(current), '--releases', ...releases.map((r) => JSON.stringify(r)), '--containers', ...containers, '--end'].join('\n'));

test('switched but not recorded: the rerun sees the routed colour live and finishes record and retirement', () => {
  const v2 = releaseId('v2', 'bbbbbbbbbbbbbbbb');
  // current.json still names v1 on blue, but the route points at green, which runs v2.
  const s = observe({ release: 'v1-a', colour: 'blue', previous: null, switchedAt: 'x' }, [rec('v1-a', 'blue', 'aaa'), rec(v2, 'green', 'ggg')],
    [ps('web-blue', 'aaa', 'v1', 'aaaaaaaaaaaa'), ps('web-green', 'ggg', 'v2', 'bbbbbbbbbbbbbbbb')], 'shop-web-green:80');
  assert.equal(s.routedColour, 'green');
  const d = planDeploy(s, v2, 'S');
  assert.equal(d.kind, 'noop');
  assert.deepEqual(d.kind === 'noop' && d.repair, {
    record: { release: v2, colour: 'green', previous: { release: 'v1-a', colour: 'blue' } },
    retire: { colour: 'blue', containerId: 'aaa' },
  });
  // The next release goes to blue (replacing the old colour), never over the serving green.
  const next = planDeploy(s, 'v3-c', 'S');
  assert.equal(next.kind === 'deploy' && next.colour, 'blue');
  // No record for the routed container (lost before the switch finished): still never replaced.
  const bare = observe({ release: 'v1-a', colour: 'blue', previous: null, switchedAt: 'x' }, [rec('v1-a', 'blue', 'aaa')],
    [ps('web-blue', 'aaa', 'v1', 'a'), ps('web-green', 'ggg', 'v2', 'b')], 'shop-web-green:80');
  const d2 = planDeploy(bare, v2, 'S');
  assert.equal(d2.kind === 'deploy' && d2.colour, 'blue');
});

test('a current.json without a trailing newline is still read', () => {
  const s = parseObservation(['--current', '{"release":"v1-a","colour":"blue","previous":null,"switchedAt":"x"}', '--releases', '--end'].join('\n'));
  assert.equal(s.current?.release, 'v1-a');
});

test('recorded but the old colour left running: retired by the rerun; not while its retire is pending', () => {
  const cur = { release: 'v2-b', colour: 'green', previous: { release: 'v1-a', colour: 'blue' }, switchedAt: 'x' };
  const containers = [ps('web-blue', 'aaa', 'v1', 'a'), ps('web-green', 'ggg', 'v2', 'b')];
  const left = planDeploy(observe(cur, [rec('v1-a', 'blue'), rec('v2-b', 'green')], containers, 'shop-web-green:80'), 'v2-b', 'S');
  assert.deepEqual(left.kind === 'noop' && left.repair, { retire: { colour: 'blue', containerId: 'aaa' } });
  const pending = planDeploy(observe(cur, [rec('v1-a', 'blue'), rec('v2-b', 'green')], containers, 'shop-web-green:80', ['blue']), 'v2-b', 'S');
  assert.equal(pending.kind === 'noop' && pending.repair, undefined);
});

test('log tails carry no terminal control codes', () => {
  const raw = '\u001b[2K\r Container x  Starting\u001b[1A\u001b[31merror\u001b[0m\r\n\u001b]0;title\u0007done';
  assert.equal(stripAnsi(raw), ' Container x  Startingerror\r\ndone');
  const e = new HealthError('web-green', 'h1', 'x', ['\u001b[2Kboot failed']);
  assert.doesNotMatch(e.message, /\u001b/);
});
