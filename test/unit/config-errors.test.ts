import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandError, formatError, HealthError, LockError, StepError } from '../../src/errors.ts';

describe('error classes carry what the CLI prints', () => {
  it('CommandError: host, exit code, shell-quoted argv, stderr tail', () => {
    const err = new CommandError(['docker', '--context', 'berth-h1', 'compose', 'up', '-d', 'web blue'], 1, 'line1\nno such service\n', 'h1');
    assert.equal(formatError(err), "ERROR (CommandError): command failed on h1 (exit 1): docker --context berth-h1 compose up -d 'web blue'\nline1\nno such service");
    assert.equal(err.exitCode, 1);
    assert.equal(err.host, 'h1');
  });

  it('StepError: step, scope and the cause', () => {
    const err = new StepError('release command', 'bin/rails db:prepare failed', { app: 'wombatworkouts', host: 'app1' }, { cause: new Error('exit 1') });
    assert.equal(formatError(err), 'ERROR (StepError): release command (wombatworkouts@app1): bin/rails db:prepare failed\ncaused by Error: exit 1');
  });

  it('HealthError: the log tail', () => {
    const err = new HealthError('web-green', 'h1', 'did not become healthy within 120s', ['Puma starting', 'ActiveRecord::ConnectionNotEstablished']);
    assert.equal(
      err.message,
      'web-green on h1 is not healthy: did not become healthy within 120s\nlast 2 log lines:\n  | Puma starting\n  | ActiveRecord::ConnectionNotEstablished',
    );
  });

  it('LockError: holder and the command that releases it', () => {
    const err = new LockError('zen_miner on web1', 'alice@laptop (deploy, pid 4242, since 2025-01-01T10:00:00Z)', 'ssh root@198.51.100.21 rm -rf /var/lib/berth/apps/zen_miner/lock');
    assert.match(formatError(err), /^ERROR \(LockError\): zen_miner on web1 is locked by alice@laptop .*\nrelease it \(only if that deploy is dead\) with: ssh root@198\.51\.100\.21 rm -rf/);
  });

  it('verbose adds the stack; non-errors are printed as they are', () => {
    const err = new StepError('switch', 'Traefik did not report the new server');
    assert.doesNotMatch(formatError(err, false), /\n\s+at /);
    assert.match(formatError(err, true), /\n\s+at /);
    assert.equal(formatError('plain'), 'ERROR: plain');
  });
});
