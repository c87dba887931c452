import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DRIFT_EXIT, FAIL2BAN_JAIL, renderHardening, renderHardeningCheck, SSHD_DROPIN } from '../../src/plan/render-hardening.ts';

const host = { ssh: 'root@203.0.113.10', roles: [], labels: {} };

test('hardening: UFW allows only SSH, HTTP, HTTPS and filters Docker-published ports by the port the client sent to', () => {
  const s = renderHardening(host);
  assert.match(s, /ufw default deny incoming/);
  assert.match(s, /for p in \$ssh_ports 80 443; do ufw allow "\$p\/tcp"/);
  assert.equal((s.match(/ufw allow/g) ?? []).length, 2, 'nothing else is opened (one loop, one expected-rules list)');
  assert.match(s, /-A DOCKER-USER -i \$ext -p tcp -m conntrack --ctorigdstport 80 -j RETURN/);
  assert.match(s, /--ctorigdstport 443 -j RETURN" \\\n {2}"-A DOCKER-USER -i \$ext -j DROP"/);
  assert.doesNotMatch(s, /--dports/, 'the container port after DNAT must not decide (8080->80 would pass)');
  assert.match(s, /sed -i '\/\^# BEGIN berth DOCKER-USER\$\//, 'rerunning replaces its own block');
});

test('hardening: SSH port comes from sshd on the host, never from the port the operator dials', () => {
  const s = renderHardening({ ...host, ssh: 'root@127.0.0.1:2201' });
  assert.doesNotMatch(s, /2201/);
  assert.match(s, /ssh_ports=\$\(sshd -T/);
  assert.match(s, /refusing to touch the firewall/);
  assert.match(s, /"port = \$ssh_ports_csv"/);
});

test('hardening: key-only SSH is validated before reload; fail2ban jail is read after Debian defaults', () => {
  const s = renderHardening(host);
  assert.match(s, new RegExp(`printf '%s\\\\n' "\\$want_sshd" > ${SSHD_DROPIN}\nsshd -t\n`));
  assert.match(s, /'PasswordAuthentication no' 'KbdInteractiveAuthentication no' 'PermitRootLogin prohibit-password'/);
  assert.ok(FAIL2BAN_JAIL.endsWith('.local'));
  assert.match(s, /systemctl restart fail2ban/, 'a running fail2ban picks up a changed jail');
});

test('hardening: each part can be switched off', () => {
  for (const script of [renderHardening, renderHardeningCheck]) {
    const s = script({ ...host, hardening: { ufw: false, fail2ban: false, ssh_key_only: true } });
    assert.doesNotMatch(s, /ufw|fail2ban|DOCKER-USER/);
    assert.match(s, /PasswordAuthentication no/);
  }
});

test('hardening scripts are valid POSIX sh', () => {
  for (const s of [renderHardening(host), renderHardeningCheck(host)]) {
    const r = spawnSync('sh', ['-n'], { input: s, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
});

test('the check only reads: no command that writes, installs or reloads', () => {
  const s = renderHardeningCheck(host);
  for (const w of [/apt-get/, /(^|[;&|(]\s*|do |then |else )ufw (allow|delete|default|--force|enable|reload)/m, /sed -i/, /(^|[^0-9&])>>? ?\/(?!dev\/null)/m, /systemctl/, /kill /, /fail2ban-client (reload|start|-x)/, /mktemp|\/tmp\//]) {
    assert.doesNotMatch(s, w);
  }
});

// The scripts run for real against stand-ins for sshd, ufw, iptables, fail2ban-client and ip that
// keep their state in a temp dir (the scripts' /etc and /run are rewritten to it). The real
// programs are exercised on a sandbox host by test/e2e/hardening.test.ts.
describe('apply, check, drift, repair (scripts run against stand-in tools)', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-harden-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const bin = join(root, 'bin');
  const st = join(root, 'state');
  mkdirSync(bin, { recursive: true });
  mkdirSync(st, { recursive: true });
  mkdirSync(join(root, 'etc', 'ufw'), { recursive: true });
  writeFileSync(join(root, 'etc', 'ufw', 'after.rules'), '*filter\nCOMMIT\n');
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\nST=${st}\nETC=${root}/etc\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('ip', `echo 'default via 10.0.0.1 dev eth0 proto static'`);
  stub('apt-get', `echo "apt-get must not run here: $*" >&2; exit 1`);
  stub('service', `echo "$*" >> $ST/service.log`);
  stub('systemctl', `exit 1`);
  stub('sshd', `case "$1" in -t) exit 0;; -T)
  echo 'port 22'; echo 'listenaddress 0.0.0.0:22'
  v() { grep -ih "^$1 " $ETC/ssh/sshd_config.d/*.conf 2>/dev/null | head -n1 | awk '{print $2}'; }
  echo "passwordauthentication $(v PasswordAuthentication || true)" | sed 's/ $/ yes/'
  echo "kbdinteractiveauthentication $(v KbdInteractiveAuthentication)" | sed 's/ $/ yes/'
  p=$(v PermitRootLogin); [ "$p" = prohibit-password ] && p=without-password; echo "permitrootlogin \${p:-yes}";;
esac`);
  stub('fail2ban-client', `case "$1" in ping|status) [ -f $ST/f2b ];; reload|-x) touch $ST/f2b;; esac`);
  stub('ufw', `touch $ST/ufw.rules
case "$1" in
  default) echo "$2 $3" >> $ST/ufw.default;;
  allow) grep -qxF "ufw allow $2" $ST/ufw.rules || echo "ufw allow $2" >> $ST/ufw.rules;;
  delete) shift; grep -vxF "ufw $*" $ST/ufw.rules > $ST/x; mv $ST/x $ST/ufw.rules;;
  --force|reload) touch $ST/ufw.active
    sed -n '/^# BEGIN berth DOCKER-USER$/,/^# END berth DOCKER-USER$/p' $ETC/ufw/after.rules | grep '^-A ' > $ST/iptables;;
  show) echo "Added user rules (see 'ufw status' for running firewall):"; cat $ST/ufw.rules;;
  status) [ -f $ST/ufw.active ] && echo 'Status: active' || echo 'Status: inactive'
    echo "Default: $(tail -n2 $ST/ufw.default | grep -q 'deny incoming' && echo deny || echo allow) (incoming), allow (outgoing), disabled (routed)";;
esac`);
  stub('iptables', `echo '-N DOCKER-USER'; cat $ST/iptables 2>/dev/null`);

  const localise = (s: string) => s.replaceAll('/etc/', `${root}/etc/`).replaceAll('/run/', `${root}/run/`);
  const sh = (script: string) => {
    const r = spawnSync('sh', ['-c', localise(script)], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const apply = () => {
    const r = sh(renderHardening(host));
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /hardened/);
  };
  const check = () => sh(renderHardeningCheck(host));

  test('a bare host: every check reports drift, exit code says so', () => {
    const r = check();
    assert.equal(r.code, DRIFT_EXIT, r.err);
    assert.match(r.out, /drift ufw: not active/);
    assert.match(r.out, /drift sshd: passwordauthentication is yes \(want no\)/);
    assert.match(r.out, /drift fail2ban: the sshd jail is not running/);
  });

  test('after --harden the check passes; rerunning --harden changes nothing', () => {
    apply();
    const r = check();
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /drift/);
    assert.match(r.out, /ok ufw: only 22\/tcp 80\/tcp 443\/tcp/);
    assert.match(r.out, /ok DOCKER-USER: live chain/);
    const jail = readFileSync(join(root, FAIL2BAN_JAIL.slice(1)), 'utf8');
    assert.match(jail, /^port = 22\nbackend = auto\nlogpath = \/var\/log\/auth\.log\n/m, 'no systemd here: sshd logs to auth.log');
    const rules = readFileSync(join(root, 'etc', 'ufw', 'after.rules'), 'utf8');
    apply();
    assert.equal(readFileSync(join(root, 'etc', 'ufw', 'after.rules'), 'utf8'), rules, 'the DOCKER-USER block is replaced, not appended again');
    assert.equal(check().code, 0);
  });

  test('an extra UFW rule is drift; --harden removes it', () => {
    sh('ufw allow 8080/tcp');
    const r = check();
    assert.equal(r.code, DRIFT_EXIT);
    assert.match(r.out, /drift ufw: rules setup did not add: ufw allow 8080\/tcp/);
    apply();
    assert.equal(check().code, 0);
    assert.doesNotMatch(readFileSync(join(st, 'ufw.rules'), 'utf8'), /8080/);
  });

  test('a changed sshd setting is drift; --harden restores it', () => {
    const f = join(root, SSHD_DROPIN.slice(1));
    writeFileSync(f, readFileSync(f, 'utf8').replace('PasswordAuthentication no', 'PasswordAuthentication yes'));
    const r = check();
    assert.equal(r.code, DRIFT_EXIT);
    assert.match(r.out, /drift sshd: \/.*10-berth.conf is missing or was changed/);
    assert.match(r.out, /drift sshd: passwordauthentication is yes/);
    apply();
    assert.equal(check().code, 0);
  });

  test('a DOCKER-USER rule missing from the live chain is drift', () => {
    writeFileSync(join(st, 'iptables'), readFileSync(join(st, 'iptables'), 'utf8').replace(/.*-j DROP\n/, ''));
    const r = check();
    assert.equal(r.code, DRIFT_EXIT);
    assert.match(r.out, /drift DOCKER-USER: live chain lacks: -A DOCKER-USER -i eth0 -j DROP/);
    apply();
    assert.equal(check().code, 0);
  });

  test('without a readable sshd port nothing is touched', () => {
    stub('sshd', 'exit 1');
    const before = readFileSync(join(st, 'ufw.rules'), 'utf8');
    const r = sh(renderHardening(host));
    assert.equal(r.code, 2);
    assert.match(r.err, /refusing to touch the firewall/);
    assert.equal(readFileSync(join(st, 'ufw.rules'), 'utf8'), before);
    assert.equal(check().code, 2, 'the check reports it cannot run, not a pass');
  });
});
