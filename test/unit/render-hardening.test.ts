import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { renderHardening, SSHD_DROPIN } from '../../src/plan/render-hardening.ts';

const host = { ssh: 'root@203.0.113.10', roles: [], labels: {} };

test('hardening: UFW allows only SSH, HTTP, HTTPS and filters Docker-published ports', () => {
  const s = renderHardening(host, 22);
  assert.match(s, /ufw default deny incoming/);
  for (const p of ['22/tcp', '80/tcp', '443/tcp']) assert.match(s, new RegExp(`ufw allow ${p}`));
  assert.equal((s.match(/ufw allow/g) ?? []).length, 3, 'nothing else is opened');
  assert.match(s, /-A DOCKER-USER -i \$ext -p tcp -m multiport --dports 80,443 -j RETURN\n-A DOCKER-USER -i \$ext -j DROP/);
  assert.match(s, /sed -i '\/\^# BEGIN berth DOCKER-USER\$\//, 'rerunning replaces its own block');
});

test('hardening: key-only SSH is validated before reload; fail2ban guards the real SSH port', () => {
  const s = renderHardening(host, 2222);
  assert.match(s, new RegExp(`PasswordAuthentication no.*> ${SSHD_DROPIN}`));
  assert.match(s, /sshd -t && /);
  assert.match(s, /'port = 2222'/);
  assert.match(s, /ufw allow 2222\/tcp/);
});

test('hardening: each part can be switched off', () => {
  const s = renderHardening({ ...host, hardening: { ufw: false, fail2ban: false, ssh_key_only: true } });
  assert.doesNotMatch(s, /ufw|fail2ban/);
  assert.match(s, /PasswordAuthentication no/);
});

test('hardening script is valid POSIX sh', () => {
  const r = spawnSync('sh', ['-n'], { input: renderHardening(host), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
