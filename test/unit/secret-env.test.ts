// The secrets wrapper, run for real by /bin/sh: files → env, `${NAME}` templates expanded, then the
// image's entrypoint + command exec'd with exactly the given argv.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ENTRY_WRAPPER_SH, imageExecEnv, lacksShell, noShellMessage, parseImageExec, secretRefs, SECRETS_DIR_IN_CONTAINER, withSecretEnv } from '../../src/plan/secret-env.ts';
import { SECRET_SET_ID_SH, secretSetId } from '../../src/plan/secret-sets.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-secrets-'));
writeFileSync(join(dir, 'SECRET_KEY_BASE'), 'se cret\n');
writeFileSync(join(dir, 'PG'), `p'w$x "q"`);
writeFileSync(join(dir, 'not-a-name'), 'ignored');
const script = ENTRY_WRAPPER_SH.split(SECRETS_DIR_IN_CONTAINER).join(dir);

const run = (env: Record<string, string>, args: string[]) =>
  spawnSync('/bin/sh', ['-c', script, 'berth-env', ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });

test('secret files become env; templates expand; the image entrypoint runs with its own command', () => {
  const r = run(
    { ...imageExecEnv(['/usr/bin/env'], ['ignored-when-args-given']), BERTH_SECRET_TEMPLATES: 'URL', URL: 'postgres://u:${PG}@db/${UNSET}x' },
    ['-0'],
  );
  assert.equal(r.status, 0, r.stderr);
  const env = Object.fromEntries(r.stdout.split('\0').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.equal(env.SECRET_KEY_BASE, 'se cret\n', 'value exact, trailing newline kept');
  assert.equal(env.PG, `p'w$x "q"`);
  assert.equal(env.URL, `postgres://u:p'w$x "q"@db/x`);
  assert.equal(env['not-a-name'], undefined);
  assert.equal(env.BERTH_IMAGE_ENTRYPOINT, undefined, 'the wrapper leaves no trace in the process env');
});

test('no args: the image command runs; no entrypoint: the command alone', () => {
  const r = run(imageExecEnv(null, ['echo', 'a b', '$HOME']), []);
  assert.equal(r.stdout, 'a b $HOME\n');
  const r2 = run(imageExecEnv(['echo', 'x'], ['default']), ['y', 'z']);
  assert.equal(r2.stdout, 'x y z\n');
  const r3 = run(imageExecEnv(null, null), []);
  assert.equal(r3.status, 127);
  assert.match(r3.stderr, /no entrypoint or command/);
});

test('exec in a live container gets the same env, runs only the given command', () => {
  const [sh, c, s, name, ...args] = withSecretEnv(['printenv', 'SECRET_KEY_BASE']);
  const r = spawnSync(sh!, [c!, s!.split(SECRETS_DIR_IN_CONTAINER).join(dir), name!, ...args], {
    env: { PATH: process.env.PATH, ...imageExecEnv(['/bin/false'], ['x']) },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'se cret\n\n');
});

test('image inspect output and secret references are parsed', () => {
  assert.deepEqual(parseImageExec('["/rails/bin/docker-entrypoint"] ["./bin/rails","server"]'), { entrypoint: ['/rails/bin/docker-entrypoint'], cmd: ['./bin/rails', 'server'] });
  assert.deepEqual(parseImageExec('null ["testapp", "a b"]'), { entrypoint: null, cmd: ['testapp', 'a b'] });
  assert.deepEqual(parseImageExec('["a] [b"] null'), { entrypoint: ['a] [b'], cmd: null });
  assert.equal(parseImageExec('Error: No such image'), undefined);
  assert.deepEqual(secretRefs('a${X}b$${Y}${Z_1}'), ['X', 'Z_1']);
});

test('secret sets: the host computes the same id from the files as Berth from the values', () => {
  const values = { B_KEY: 'multi\nline\n', A: 'x y "z" $HOME `id`', a_low: 'ünï', EMPTY: '' };
  const dir = mkdtempSync(join(tmpdir(), 'berth-set-'));
  try {
    for (const [k, v] of Object.entries(values)) writeFileSync(join(dir, k), v);
    assert.equal(execFileSync('sh', ['-c', SECRET_SET_ID_SH, 'sh', dir], { encoding: 'utf8' }).trim(), secretSetId(values));
    writeFileSync(join(dir, 'A'), 'changed');
    assert.notEqual(execFileSync('sh', ['-c', SECRET_SET_ID_SH, 'sh', dir], { encoding: 'utf8' }).trim(), secretSetId(values));
    assert.equal(execFileSync('sh', ['-c', SECRET_SET_ID_SH, 'sh', join(dir, 'gone')], { encoding: 'utf8' }).trim(), 'missing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an image without /bin/sh is recognised from what Docker says, and the message says why and what to do', () => {
  const compose = 'Container berth-x-web-blue-1  Starting\nError response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown';
  assert.equal(lacksShell(compose), true);
  assert.equal(lacksShell('exec: "/bin/sh": executable file not found in $PATH'), true);
  assert.equal(lacksShell('exec: "/app": stat /app: no such file or directory'), false, 'another missing file is not this');
  assert.match(noShellMessage('reg/app:v1'), /^the image reg\/app:v1 has no \/bin\/sh: .*distroless or scratch.*COPY --from=busybox/);
});
