// `setup --harden` on h13, a host that starts bare (sshd and apt, no Docker), checked from outside
// the way an attacker or an operator meets it: from another host (h1) on the fleet network, and
// over SSH from this machine. The drift check reports a changed rule or sshd setting and exits
// non-zero without touching anything; a rerun of --harden repairs it. h13 is reset to bare after.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fleet, fromHost, type MachineSpec } from './support/machines.ts';
import type { TestProject } from './support/project.ts';

let F: ReturnType<typeof fleet>;
let H1: MachineSpec;
let H13: MachineSpec;
let p: TestProject;
const PW_USER = 'ftpw';
const PW = 'ft-Password-4711';

const onH13 = async (script: string) => {
  const r = await F.onHost(H13, script, { allowFail: true });
  return { code: r.code, out: r.stdout.trim(), err: r.stderr.trim() };
};
/** TCP connect from h1 to h13:port within 3 s (the firewall drops, so a closed port times out). */
const reachableFromH1 = async (port: number) =>
  (await fromHost(H1, `timeout 3 bash -c 'exec 3<>/dev/tcp/${H13.address}/${port}' 2>/dev/null`)).code === 0;
/** A password login from h1 to h13 (askpass supplies the password; no terminal needed). */
const passwordLoginFromH1 = () =>
  fromHost(
    H1,
    `printf '#!/bin/sh\\necho ${PW}\\n' > /tmp/ft-askpass && chmod 700 /tmp/ft-askpass && ` +
      `SSH_ASKPASS=/tmp/ft-askpass SSH_ASKPASS_REQUIRE=force setsid -w ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ` +
      `-o PreferredAuthentications=password,keyboard-interactive -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 -o ConnectTimeout=5 ${PW_USER}@${H13.address} echo logged-in`,
  );
const check = () => p.berth('setup', ['h13', '--harden', '--check']);

describe('setup --harden on a bare host (h13)', { timeout: 900_000 }, () => {
  before(async () => {
    F = fleet();
    [H1, H13] = [F.H1, F.H13];
    await F.resetHost(H13);
    p = F.makeProject('berth-e2e-harden-', [H13]);
    const setup = await p.berth('setup', ['h13']);
    assert.equal(setup.code, 0, setup.all);
    // sshd on the sandbox machines logs with -E (lines without a time, which fail2ban skips); a
    // server without systemd logs through syslog. Make h13 one (rsyslog without kernel logging,
    // which would drain this machine's kernel log), from its console.
    const syslog = await F.onConsole(H13, [
      'DEBIAN_FRONTEND=noninteractive apt-get install -y -q rsyslog >/dev/null 2>&1 || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q rsyslog >/dev/null; }',
      `sed -i 's/^module(load="imklog"/#&/' /etc/rsyslog.conf`,
      'pkill -x rsyslogd; sleep 0.5; rsyslogd',
      "for i in 1 2 3 4 5 6; do ps -eo args | grep -q '^sshd: /usr/sbin/sshd -E' || break; kill \"$(cat /run/sshd.pid)\"; /usr/sbin/sshd; sleep 1.5; done",
      "ps -eo args | grep '^sshd: /usr/sbin/sshd' | grep -v -- ' -E '",
    ].join('\n'), { timeoutMs: 180_000 });
    assert.equal(syslog.code, 0, `sshd logging through syslog on h13: ${syslog.stdout} ${syslog.stderr}`);
    // Before hardening: a user with a password can log in, and a port a container publishes on
    // 0.0.0.0 is open to other hosts (so the assertions below can fail).
    const user = await onH13(`id ${PW_USER} >/dev/null 2>&1 || useradd -m -s /bin/sh ${PW_USER}; echo '${PW_USER}:${PW}' | chpasswd`);
    assert.equal(user.code, 0, user.err);
    const pub = await onH13('docker rm -f ftpub >/dev/null 2>&1; docker run -d --name ftpub --restart unless-stopped -p 0.0.0.0:8088:80 berth/testapp:v1 >/dev/null');
    assert.equal(pub.code, 0, pub.err);
    assert.ok(await reachableFromH1(8088), 'before --harden the published port answers other hosts');
    const pw = await passwordLoginFromH1();
    assert.match(pw.stdout, /logged-in/, `before --harden a password login works: ${pw.stderr}`);
  });

  after(async () => {
    if (F) await F.resetHost(F.H13);
    p?.cleanup();
  });

  test('the drift check on an unhardened host reports every part and exits 3 (drift)', async () => {
    const r = await check();
    assert.equal(r.code, 3, r.all);
    assert.match(r.stdout, /h13: drift ufw: (not installed|not active)/);
    assert.match(r.stdout, /h13: drift sshd: passwordauthentication is yes/);
    assert.match(r.stdout, /h13: drift fail2ban/);
  });

  test('--harden: UFW active with only 22/80/443; the check passes', async () => {
    const r = await p.berth('setup', ['h13', '--harden']);
    assert.equal(r.code, 0, r.all);
    const st = await onH13('ufw status verbose');
    assert.match(st.out, /^Status: active$/m);
    assert.match(st.out, /^Default: deny \(incoming\), allow \(outgoing\)/m);
    const rules = await onH13("ufw show added | grep '^ufw '");
    assert.deepEqual(rules.out.split('\n').sort(), ['ufw allow 22/tcp', 'ufw allow 443/tcp', 'ufw allow 80/tcp']);
    const c = await check();
    assert.equal(c.code, 0, c.all);
    assert.doesNotMatch(c.stdout, /drift/);
  });

  test('from another host: 22, 80, 443 answer; a port a container publishes on 0.0.0.0 and a host port do not', async () => {
    assert.ok(await reachableFromH1(22), 'ssh');
    assert.ok(await reachableFromH1(80), 'http (the edge)');
    assert.ok(await reachableFromH1(443), 'https (the edge)');
    assert.equal(await reachableFromH1(8088), false, 'container published on 0.0.0.0:8088 (DOCKER-USER)');
    await onH13('nohup sh -c "exec socat TCP-LISTEN:8081,fork,reuseaddr SYSTEM:true" >/dev/null 2>&1 &');
    // socat starts in the background: wait (at most 10 s) until it listens.
    assert.equal((await onH13('for i in $(seq 100); do ss -ltn | grep -q ":8081 " && break; sleep 0.1; done; ss -ltn | grep -c ":8081 "')).out, '1', 'something listens on 8081 on h13');
    assert.equal(await reachableFromH1(8081), false, 'a host port outside 22/80/443 (UFW)');
    // The container itself still serves on the host (the firewall filters only the public interface).
    assert.equal((await onH13('curl -s -o /dev/null -w %{http_code} http://127.0.0.1:8088/up')).out, '200');
  });

  test('password login is refused; key login works', async () => {
    const pw = await passwordLoginFromH1();
    assert.notEqual(pw.code, 0);
    assert.doesNotMatch(pw.stdout, /logged-in/);
    assert.match(pw.stderr, /Permission denied \(publickey\)/, 'only publickey is offered');
    assert.equal((await onH13('echo key-ok')).out, 'key-ok');
  });

  test('fail2ban bans an address after repeated failed logins from another host', async () => {
    // Each attempt is bounded: a ban that lands mid-handshake leaves the client waiting on dropped
    // packets (ConnectTimeout covers only the TCP connect). The bound is generous: on a loaded machine
    // the key exchange alone can take seconds, and an attempt cut before "Invalid user" is logged is
    // not a failed login to fail2ban. Once port 22 stops answering, the ban is in: no more attempts.
    const failures = await fromHost(
      H1,
      `for i in 1 2 3 4 5 6 7 8; do timeout 3 bash -c 'exec 3<>/dev/tcp/${H13.address}/22' 2>/dev/null || break; ` +
        `timeout 20 ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 nosuchuser${'$'}i@${H13.address} true 2>/dev/null; sleep 0.3; done; exit 0`,
      240_000,
    );
    assert.equal(failures.code, 0);
    let banned = '';
    for (let i = 0; i < 60 && !banned.includes(H1.address); i++) {
      banned = (await onH13('fail2ban-client status sshd')).out;
      if (!banned.includes(H1.address)) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.match(banned, new RegExp(`Banned IP list:.*${H1.address.replace(/\./g, '\\.')}`), banned);
    assert.equal(await reachableFromH1(22), false, 'the banned host can no longer reach sshd');
    assert.ok(await reachableFromH1(80), 'the ban covers SSH only');
    assert.equal((await onH13('echo still-ok')).out, 'still-ok', 'other addresses still log in');
    await onH13(`fail2ban-client set sshd unbanip ${H1.address}`);
  });

  test('a changed UFW rule or sshd setting: the check reports it, exits non-zero, changes nothing; --harden repairs it', async () => {
    assert.equal((await onH13('ufw allow 8080/tcp >/dev/null && echo ok')).out, 'ok');
    assert.equal((await onH13(`sed -i 's/^PasswordAuthentication no$/PasswordAuthentication yes/' /etc/ssh/sshd_config.d/10-berth.conf && kill -HUP "$(cat /run/sshd.pid)" && echo ok`)).out, 'ok');
    const r = await check();
    assert.equal(r.code, 3, r.all);
    assert.match(r.stdout, /h13: drift ufw: rules setup did not add: ufw allow 8080\/tcp/);
    assert.match(r.stdout, /h13: drift sshd: .*10-berth\.conf is missing or was changed/);
    assert.match(r.stdout, /h13: drift sshd: passwordauthentication is yes/);
    assert.match(r.stderr, /rerun "berth setup <host> --harden"/, "the fix in the form the user typed (the launcher: berth)");
    assert.match((await onH13("ufw show added | grep -c '^ufw allow 8080/tcp'")).out, /^1$/, 'the check changed nothing');
    assert.match((await passwordLoginFromH1()).stdout, /logged-in/, 'the drift is real: passwords work again');

    const fix = await p.berth('setup', ['h13', '--harden']);
    assert.equal(fix.code, 0, fix.all);
    const c = await check();
    assert.equal(c.code, 0, c.all);
    assert.equal((await onH13("ufw show added | grep -c '^ufw allow 8080/tcp'")).out, '0');
    assert.doesNotMatch((await passwordLoginFromH1()).stdout, /logged-in/);
  });
});
