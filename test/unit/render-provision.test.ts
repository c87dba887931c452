// The Docker provisioning script `setup` runs on a host, executed here against stub commands on a
// PATH of their own (apt-get, apt-cache, docker record their calls), plus the version checks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseProvisionReport, renderDockerInstall, versionAtLeast, versionProblems } from '../../src/plan/render-provision.ts';

const DOCKER_STUB = `#!/bin/sh
echo "docker $*" >> "$LOG"
case "$1 $2" in
  "compose version") [ -e "$BIN/.compose" ] || exit 1; [ "$3" = --short ] && echo 2.26.1 ; exit 0 ;;
  "version --format") echo 26.1.5+dfsg1 ;;
  "info ") exit 0 ;;
esac
exit 0
`;

function sandbox(opts: { docker: boolean; apt: boolean; packages: string[] }) {
  const bin = mkdtempSync(join(tmpdir(), 'berth-prov-'));
  const log = join(bin, 'calls.log');
  writeFileSync(log, '');
  symlinkSync('/bin/sleep', join(bin, 'sleep'));
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), body);
    chmodSync(join(bin, name), 0o755);
  };
  const installDocker = () => {
    stub('docker', DOCKER_STUB);
    writeFileSync(join(bin, '.compose'), '');
  };
  if (opts.docker) installDocker();
  if (opts.apt) {
    stub('apt-get', `#!/bin/sh\necho "apt-get $*" >> "$LOG"\ncase "$1" in install) /bin/cp "$BIN/.docker-stub" "$BIN/docker"; /bin/chmod 755 "$BIN/docker"; : > "$BIN/.compose" ;; esac\n`);
    stub('apt-cache', `#!/bin/sh\necho "apt-cache $*" >> "$LOG"\ncase " ${opts.packages.join(' ')} " in *" $2 "*) exit 0 ;; esac\nexit 100\n`);
    writeFileSync(join(bin, '.docker-stub'), DOCKER_STUB);
  }
  const r = spawnSync('/bin/sh', ['-c', renderDockerInstall()], { env: { PATH: bin, LOG: log, BIN: bin }, encoding: 'utf8' });
  const calls = readFileSync(log, 'utf8');
  rmSync(bin, { recursive: true, force: true });
  return { ...r, calls };
}

test('provision: a bare Debian trixie host gets docker.io, docker-cli and the Compose plugin from apt', () => {
  const r = sandbox({ docker: false, apt: true, packages: ['docker.io', 'docker-cli', 'docker-compose'] });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.calls, /^apt-get update -q$/m);
  assert.match(r.calls, /^apt-get install -y -q --no-install-recommends docker\.io docker-cli docker-compose$/m);
  const rep = parseProvisionReport(r.stdout);
  assert.deepEqual(rep, { installed: true, engine: '26.1.5+dfsg1', compose: '2.26.1' });
  assert.deepEqual(versionProblems(rep), []);
});

test('provision: Ubuntu takes docker-compose-v2 (its docker-compose is Compose v1)', () => {
  const r = sandbox({ docker: false, apt: true, packages: ['docker.io', 'docker-compose-v2'] });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.calls, /^apt-get install -y -q --no-install-recommends docker\.io docker-compose-v2$/m);
});

test('provision: rerun on a provisioned host installs nothing and reports the host versions', () => {
  const r = sandbox({ docker: true, apt: true, packages: ['docker.io', 'docker-cli', 'docker-compose'] });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.calls, /apt-get/);
  assert.deepEqual(parseProvisionReport(r.stdout), { installed: false, engine: '26.1.5+dfsg1', compose: '2.26.1' });
});

test('provision: a host without apt-get and without Docker stops with a clear message', () => {
  const r = sandbox({ docker: false, apt: false, packages: [] });
  assert.equal(r.status, 3);
  assert.match(r.stderr, /no apt-get on this host: install Docker Engine and the Compose v2 plugin/);
});

test('provision: version checks name what is missing or too old', () => {
  assert.ok(versionAtLeast('26.1.5+dfsg1', '20.10.0'));
  assert.ok(versionAtLeast('v2.26.1-4', '2.20.0'));
  assert.ok(!versionAtLeast('2.19.9', '2.20.0'));
  assert.ok(!versionAtLeast('19.03.15', '20.10.0'));
  assert.deepEqual(versionProblems({ installed: false, engine: '26.1.5', compose: undefined }), [
    'the Docker Compose v2 plugin is missing (docker compose version failed on the host)',
  ]);
  assert.deepEqual(versionProblems({ installed: false, engine: '19.03.1', compose: '2.10.0' }), [
    'Docker Engine 19.03.1 is older than 20.10.0',
    'Docker Compose 2.10.0 is older than 2.20.0',
  ]);
});
