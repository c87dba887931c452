// identity_file reaches Docker's own ssh: the config Berth renders, checked with `ssh -G` (resolves
// the effective client config without connecting), and the real docker CLI running the wrapper.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { useIdentityForDocker } from '../../src/app/docker-ssh.ts';
import { hostHandle } from '../../src/app/host.ts';
import { pathWithWrapper, renderSshConfig, renderSshWrapper } from '../../src/docker/ssh-config.ts';

const tmp = mkdtempSync(join(tmpdir(), 'berth-ssh-id-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Effective ssh client settings for these args (no connection is made). */
function effective(args: string[]): Record<string, string[]> {
  const r = spawnSync('ssh', ['-G', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out: Record<string, string[]> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(' ');
    if (i > 0) (out[line.slice(0, i).toLowerCase()] ??= []).push(line.slice(i + 1));
  }
  return out;
}

test('the config gives each address its identities only, then the user and system config', () => {
  const user = join(tmp, 'user-config');
  writeFileSync(user, 'Host 198.51.100.7\n  IdentityFile /keys/from-user-config\n  Port 2299\n', { mode: 0o600 });
  const system = join(tmp, 'system-config');
  writeFileSync(system, '', { mode: 0o600 });
  const cfg = join(tmp, 'cfg1');
  writeFileSync(
    cfg,
    renderSshConfig(
      [
        { address: '203.0.113.10', identityFile: '/keys/h1 key', controlPath: '~/.ssh/cm-berth-%C' },
        { address: '203.0.113.10', identityFile: '/keys/h2' },
        { address: '203.0.113.11', identityFile: '~/.ssh/id_hetzner' },
      ],
      user,
      system,
    ),
  );
  const a = effective(['-F', cfg, '-l', 'root', '-p', '2202', '203.0.113.10']);
  assert.deepEqual(a.identityfile, ['/keys/h1 key', '/keys/h2']);
  assert.deepEqual(a.identitiesonly, ['yes']);
  assert.match(a.controlpath![0]!, /cm-berth-[0-9a-f]+$/, "Docker's ssh shares Berth's own master");
  const b = effective(['-F', cfg, '203.0.113.11']);
  assert.match(b.identityfile![0]!, /\.ssh\/id_hetzner$/);
  assert.equal(b.controlpath?.[0] ?? 'none', 'none', 'no master where ~/.ssh/config multiplexes itself');
  const other = effective(['-F', cfg, '198.51.100.7']);
  assert.ok(!other.identityfile!.some((f) => f.startsWith('/keys/h')), 'other hosts never get a Berth identity');
  assert.deepEqual(other.port, ['2299'], "the user's own config still applies");
});

test('values an ssh config cannot hold are refused', () => {
  assert.throws(() => renderSshConfig([{ address: 'h1\n  ProxyCommand evil', identityFile: '/k' }], '/dev/null', '/dev/null'), /address/);
  assert.throws(() => renderSshConfig([{ address: '*', identityFile: '/k' }], '/dev/null', '/dev/null'), /address/);
  assert.throws(() => renderSshConfig([{ address: 'h1', identityFile: '/k"\nProxyCommand evil' }], '/dev/null', '/dev/null'), /identity_file/);
});

test('PATH: the wrapper comes first, an older Berth wrapper directory is dropped', () => {
  assert.equal(pathWithWrapper('/state/ssh/old:/usr/bin:/bin', '/state/ssh/new', '/state/ssh'), '/state/ssh/new:/usr/bin:/bin');
});

test('the docker CLI runs the wrapper for an ssh:// host, and the identity is in effect for that connection', () => {
  const stateDir = join(tmp, 'state');
  // Stand-in for the real ssh: records the argv docker's helper produced, then fails (no connection).
  const recorder = join(tmp, 'record-ssh');
  const argvFile = join(tmp, 'argv');
  writeFileSync(recorder, `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > ${argvFile}\nexit 255\n`);
  chmodSync(recorder, 0o755);
  const env: NodeJS.ProcessEnv = { PATH: `${tmp}/nowhere:/usr/bin:/bin`, BERTH_STATE_DIR: stateDir };
  const h = hostHandle('h1', { ssh: 'root@203.0.113.10:2202', identity_file: '/keys/berth h1', roles: [], labels: {} });
  return (async () => {
    await useIdentityForDocker(h, env);
    const dir = env.PATH!.split(':')[0]!;
    assert.ok(dir.startsWith(join(stateDir, 'ssh')), env.PATH);
    const config = join(dir, 'config');
    assert.match(readFileSync(config, 'utf8'), /Host 203\.0\.113\.10\n {2}IdentityFile "\/keys\/berth h1"/);
    // Point the wrapper at the recorder instead of the real ssh.
    writeFileSync(join(dir, 'ssh'), renderSshWrapper(recorder, config));
    const r = spawnSync('docker', ['--host', 'ssh://root@203.0.113.10:2202', 'version', '--format', '{{.Server.Version}}'], {
      encoding: 'utf8',
      env: { ...env, DOCKER_CONFIG: join(tmp, 'docker-config'), HOME: tmp },
      timeout: 30_000,
    });
    assert.notEqual(r.status, 0, 'the recorder never connects');
    assert.ok(existsSync(argvFile), `docker did not run the wrapper: ${r.stderr}`);
    const argv = readFileSync(argvFile, 'utf8').trimEnd().split('\n');
    assert.deepEqual(argv.slice(0, 2), ['-F', config]);
    assert.ok(argv.includes('dial-stdio'), argv.join(' '));
    const eff = effective(argv.slice(0, argv.indexOf('--') + 2));
    assert.deepEqual(eff.identityfile?.slice(0, 1), ['/keys/berth h1']);
    assert.deepEqual(eff.port, ['2202']);
    assert.deepEqual(eff.user, ['root']);
  })();
});

test('hosts registering in parallel: PATH ends on the config that holds every identity', () => {
  // A fresh process (no host registered yet). The full config's files exist already (an earlier
  // run), so the last host to register finishes first, while the first is still writing its own.
  const script = `
    import { mkdirSync, writeFileSync } from 'node:fs';
    import { join } from 'node:path';
    import { useIdentityForDocker } from './src/app/docker-ssh.ts';
    import { hostHandle } from './src/app/host.ts';
    import { renderSshConfig, sshConfigId } from './src/docker/ssh-config.ts';
    import { CONTROL_PATH } from './src/docker/ssh.ts';
    const env = { PATH: '/usr/bin:/bin', BERTH_STATE_DIR: process.argv[1] };
    const hosts = ['h7', 'h8', 'h9'].map((n, i) => hostHandle(n, { ssh: 'root@203.0.113.' + (20 + i), identity_file: '/keys/' + n, roles: [], labels: {} }));
    const full = renderSshConfig(hosts.map((h) => ({ address: h.ssh.address, identityFile: '/keys/' + h.name, controlPath: CONTROL_PATH })), '~/.ssh/config', '/etc/ssh/ssh_config');
    const dir = join(env.BERTH_STATE_DIR, 'ssh', sshConfigId(full));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config'), full);
    writeFileSync(join(dir, 'ssh'), '#!/bin/sh\\n');
    await Promise.all(hosts.map((h) => useIdentityForDocker(h, env)));
    console.log(env.PATH.split(':')[0] === dir ? 'full' : 'partial ' + env.PATH);
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, join(tmp, 'state-parallel')], { cwd: join(import.meta.dirname, '..', '..'), encoding: 'utf8' });
  assert.equal(r.stdout.trim(), 'full', r.stderr);
});
