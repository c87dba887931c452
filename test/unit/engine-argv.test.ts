// Commands are data: the argv Berth would run, asserted without running anything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compose, dockerCmd } from '../../src/docker/argv.ts';
import { shJoin, shQuote } from '../../src/docker/command.ts';
import { configMultiplexes, dockerHostUrl, parseSshTarget, sshBaseArgv, sshScript } from '../../src/docker/ssh.ts';
import { hostScripts } from '../../src/exec/host-scripts.ts';

const t = { context: 'berth-h1', project: 'berth-shop', files: ['/p/compose/shop/compose.yml'], env: { RAILS_MASTER_KEY: 's3cret' } };

test('compose up of one colour waits for health and touches nothing else', () => {
  const cmd = compose.upWait(t, ['web-green'], 60);
  assert.deepEqual(cmd.argv, [
    'docker', '--context', 'berth-h1', 'compose', '--ansi', 'never', '-p', 'berth-shop', '-f', '/p/compose/shop/compose.yml',
    'up', '-d', '--no-deps', '--wait', '--wait-timeout', '60', 'web-green',
  ]);
  assert.equal(cmd.mutates, true);
});

test('secret values travel in env, never in argv', () => {
  for (const cmd of [compose.upWait(t, ['web-blue'], 5), compose.run(t, 'web-blue', ['bin/rails', 'db:prepare']), compose.config(t)]) {
    assert.ok(!cmd.argv.join(' ').includes('s3cret'));
    assert.equal(cmd.env?.RAILS_MASTER_KEY, 's3cret');
  }
  const login = dockerCmd.login('berth-h1', 'ghcr.io', 'me', 'tok3n');
  assert.ok(!login.argv.includes('tok3n'));
  assert.equal(login.input, 'tok3n');
  assert.ok(login.argv.includes('--password-stdin'));
});

test('release command runs once, without dependencies, in the new colour', () => {
  assert.deepEqual(compose.run(t, 'web-green', ['bin/rails', 'db:prepare']).argv.slice(10), ['run', '--rm', '--no-deps', '-T', 'web-green', 'bin/rails', 'db:prepare']);
});

test('read-only commands are marked so', () => {
  assert.equal(compose.config(t).mutates, false);
  assert.equal(dockerCmd.info('x').mutates, false);
  assert.equal(compose.stop(t, ['web-blue'], 30).mutates, true);
});

test('ssh targets parse and become context URLs', () => {
  assert.deepEqual(parseSshTarget({ ssh: 'root@203.0.113.10' }), { user: 'root', address: '203.0.113.10', port: 22, identityFile: undefined });
  const t2 = parseSshTarget({ ssh: 'deploy@127.0.0.1:2222', identity_file: '/k' });
  assert.equal(dockerHostUrl(t2), 'ssh://deploy@127.0.0.1:2222');
  assert.equal(dockerHostUrl(parseSshTarget({ ssh: 'root@h' })), 'ssh://root@h');
  assert.ok(sshBaseArgv(t2).includes('/k'));
  assert.ok(sshBaseArgv(t2).includes('ControlMaster=auto'));
  assert.ok(!sshBaseArgv({ ...t2, configMultiplexes: true }).includes('ControlMaster=auto'));
});

test('ssh -G output tells whether ~/.ssh/config already multiplexes', () => {
  assert.equal(configMultiplexes('user root\ncontrolmaster auto\ncontrolpath /x/cm-%r\n'), true);
  assert.equal(configMultiplexes('user root\ncontrolmaster false\ncontrolpath none\n'), false);
});

test('shell quoting keeps hostile words as one argument', () => {
  assert.equal(shQuote('plain-word_1.2'), 'plain-word_1.2');
  assert.equal(shQuote("it's"), `'it'"'"'s'`);
  assert.equal(shJoin(['echo', 'a b', '$HOME']), `echo 'a b' '$HOME'`);
});

test('host scripts take values as positional args, not spliced into the script', () => {
  const target = parseSshTarget({ ssh: 'root@h' });
  const cmd = hostScripts.writeFile(target, '/var/lib/berth/edge/dynamic/shop.yml', 'http: {}\n');
  const remote = cmd.argv.at(-1)!;
  assert.ok(remote.startsWith('sh -c '));
  assert.ok(remote.endsWith(' berth /var/lib/berth/edge/dynamic/shop.yml 644'));
  assert.equal(cmd.input, 'http: {}\n');
  const script = sshScript(target, 'echo "$1"', ["x'; rm -rf /"]);
  assert.ok(script.argv.at(-1)!.endsWith(`berth 'x'"'"'; rm -rf /'`));
});
