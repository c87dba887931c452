// Pure deploy/rollback decisions and the parsing of what a host reports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitCommand } from '../../src/docker/command.ts';
import { formatSecretsEnv, parseSecretsEnv, secretsDigest } from '../../src/exec/secrets-file.ts';
import { type AppState, parseObservation, type ReleaseRecord } from '../../src/exec/state.ts';
import { planDeploy, planRollback, releaseId } from '../../src/plan/deploy-plan.ts';
import { secretSetEnv, secretSetId, secretsIdVar } from '../../src/plan/secret-sets.ts';

const rec = (id: string, colour: 'blue' | 'green', createdAt: string, containerId?: string): ReleaseRecord => ({
  id, app: 'shop', tag: id.split('-')[0]!, image: `shop:${id}`, colour, configHash: 'h', secretsHash: 'S', createdAt, host: 'h1', containerId,
});

const ps = (service: string, id: string, state = 'running', status = 'Up 1 minute (healthy)') =>
  JSON.stringify({ ID: id, Names: `berth-shop-${service}-1`, State: state, Status: status, Labels: `com.docker.compose.service=${service},berth.app=shop,berth.secrets=S` });

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
  const sick = observed({ release: 'v1-a', colour: 'blue', previous: null, switchedAt: 'x' }, [rec('v1-a', 'blue', '1')], [ps('web-blue', 'aaa', 'running', 'Up 1 minute (unhealthy)')]);
  assert.equal(planDeploy(sick, 'v1-a', 'S').kind, 'deploy', 'an unhealthy live container is replaced');
});

test('a stopped live colour (docker stop/kill) is started again in place by any deploy, a no-op included; so are stopped services', () => {
  const cur = { release: 'v1-a', colour: 'blue', previous: null, switchedAt: 'x' };
  const down = observed(cur, [rec('v1-a', 'blue', '1')], [ps('web-blue', 'aaa', 'exited', 'Exited (137)'), ps('worker-jobs', 'www', 'exited', 'Exited (0)'), ps('litestream', 'lll'), ps('web-green', 'ggg', 'exited', 'Exited (0)')]);
  const d = planDeploy(down, 'v1-a', 'S', { services: ['worker-jobs', 'litestream', 'db'] });
  // The idle colour stays stopped; a service with no container at all (db) is started too.
  assert.deepEqual(d, { kind: 'noop', colour: 'blue', reason: 'release v1-a is already live on blue', repair: { start: ['web-blue', 'worker-jobs', 'db'] } });
  // A repair always goes through the lock (the optimistic read only answers a plain no-op).
  const up = observed(cur, [rec('v1-a', 'blue', '1')], [ps('web-blue', 'aaa'), ps('worker-jobs', 'www', 'exited', 'Exited (0)')]);
  assert.deepEqual(planDeploy(up, 'v1-a', 'S', { services: ['worker-jobs'] }), { kind: 'noop', colour: 'blue', reason: 'release v1-a is already live on blue and healthy', repair: { start: ['worker-jobs'] } });
  // An engine that cannot start it in place (no services given) redeploys it.
  assert.equal(planDeploy(down, 'v1-a', 'S').kind, 'deploy');
  // Another release: the deploy itself brings the app back (a new colour, switched to).
  assert.deepEqual(planDeploy(down, 'v2-b', 'S'), { kind: 'deploy', colour: 'green', live: { colour: 'blue', release: 'v1-a' } });
});

test('a no-op checks the secret values: the live colour mounts the wanted set, and the set on the host still holds them', () => {
  const cur = { release: 'v1-a', colour: 'blue', previous: null, switchedAt: 'x' };
  const withLabel = (set: string | undefined) => JSON.stringify({ ID: 'aaa', Names: 'x', State: 'running', Status: 'Up (healthy)', Labels: `com.docker.compose.service=web-blue${set === undefined ? '' : `,berth.secrets=${set}`}` });
  const obs = (set: string | undefined, check?: string) =>
    parseObservation(['--current', JSON.stringify(cur), '--releases', JSON.stringify(rec('v1-a', 'blue', '1')), '--containers', withLabel(set), ...(check ? ['--secrets-check', check] : []), '--end'].join('\n'));
  assert.equal(planDeploy(obs('S', 'S'), 'v1-a', 'S').kind, 'noop');
  assert.equal(planDeploy(obs('OTHER', 'S'), 'v1-a', 'S').kind, 'deploy', 'the live colour runs with another set of values (e.g. a rollback wrote them)');
  assert.equal(planDeploy(obs(undefined, 'S'), 'v1-a', 'S').kind, 'deploy', 'a container from before secret sets reads the shared files: redeployed');
  // An engine that does not hash a set (Swarm: its own secrets) decides on the recorded hash alone.
  assert.equal(planDeploy(obs(undefined), 'v1-a', 'S').kind, 'noop');
  assert.equal(planDeploy(obs('S', 'missing'), 'v1-a', 'S').kind, 'deploy', 'its set is gone from the host: a restart would fail');
  assert.equal(planDeploy(obs('S', 'f00d'), 'v1-a', 'S').kind, 'deploy', 'its files were changed');
});

test('secret sets: one id per set of values; support services labelled with the secrets they mount', () => {
  assert.equal(secretSetId({ A: '1', B: '2' }), secretSetId({ B: '2', A: '1' }));
  assert.notEqual(secretSetId({ A: '1', B: '2' }), secretSetId({ A: '1', B: '3' }));
  assert.notEqual(secretSetId({ A: 'x\nB' }), secretSetId({ A: 'x', B: '' }), 'names and values cannot run into each other');
  const yml = 'services:\n  web-blue: { secrets: [A, B] }\n  release: { secrets: [A, B] }\n  worker-jobs: { secrets: [A] }\n  db: { secrets: [B] }\n  db-backup: { secrets: [B] }\n  litestream: { secrets: [{ source: K, target: LITESTREAM_ACCESS_KEY_ID }] }\n  cache: {}\n';
  const env = secretSetEnv({ A: '1', B: '2', K: 'k' }, yml);
  assert.deepEqual(Object.keys(env).sort(), ['BERTH_SECRETS_ID', 'BERTH_SECRETS_ID_DB', 'BERTH_SECRETS_ID_DB_BACKUP', 'BERTH_SECRETS_ID_LITESTREAM']);
  assert.equal(env.BERTH_SECRETS_ID, secretSetId({ A: '1', B: '2', K: 'k' }));
  assert.equal(env.BERTH_SECRETS_ID_DB, secretSetId({ B: '2' }));
  // A changed app secret changes the release's set, not the database's label (no restart of db).
  const next = secretSetEnv({ A: 'changed', B: '2', K: 'k' }, yml);
  assert.notEqual(next.BERTH_SECRETS_ID, env.BERTH_SECRETS_ID);
  assert.equal(next.BERTH_SECRETS_ID_DB, env.BERTH_SECRETS_ID_DB);
  // Placement across hosts: one compose file per host; every host's services are named.
  const perHost = secretSetEnv({ A: '1', B: '2' }, ['services:\n  web-blue: { secrets: [A] }\n', 'services:\n  db: { secrets: [B] }\n']);
  assert.deepEqual(Object.keys(perHost).sort(), ['BERTH_SECRETS_ID', 'BERTH_SECRETS_ID_DB']);
  assert.equal(secretsIdVar('web-green'), 'BERTH_SECRETS_ID');
  assert.equal(secretsIdVar('worker-mail'), 'BERTH_SECRETS_ID');
  assert.equal(secretsIdVar('release'), 'BERTH_SECRETS_ID', "the release command's service mounts the release's set");
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
