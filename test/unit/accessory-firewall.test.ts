// The firewall section for accessories other hosts reach (render-hardening.ts, fed by
// placement.ts accessoryOpenings): its rules as iptables -S / ufw print them, and apply → check →
// drift → repair run against stand-ins for ufw, iptables and ip (the real programs: the topology e2e).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DRIFT_EXIT, renderHardening, renderHardeningCheck } from '../../src/plan/render-hardening.ts';
import type { AccessoryOpening } from '../../src/plan/placement.ts';

const host = { ssh: 'root@203.0.113.16', roles: [], labels: {}, private_ip: '10.0.0.16', hardening: { ufw: true, fail2ban: false, ssh_key_only: false } };
const openings: AccessoryOpening[] = [{ app: 'topo', accessory: 'db', address: '10.0.0.16', port: 5432, sources: ['10.0.0.14', '10.0.0.15'] }];

test('DOCKER-USER admits the app hosts to the published port on the private address, drops the rest, before the public rules', () => {
  const s = renderHardening(host, openings);
  const i = (re: RegExp) => s.search(re);
  assert.ok(i(/"-A DOCKER-USER -s 10\.0\.0\.14\/32 -i \$pif_0 -p tcp -m conntrack --ctorigdst 10\.0\.0\.16 --ctorigdstport 5432 -j RETURN"/) > 0);
  assert.ok(i(/"-A DOCKER-USER -s 10\.0\.0\.15\/32 -i \$pif_0 -p tcp -m conntrack --ctorigdst 10\.0\.0\.16 --ctorigdstport 5432 -j RETURN"/) > 0);
  const drop = i(/"-A DOCKER-USER -i \$pif_0 -p tcp -m conntrack --ctorigdst 10\.0\.0\.16 --ctorigdstport 5432 -j DROP"/);
  assert.ok(drop > 0 && drop < i(/--ctorigdstport 80 -j RETURN/), 'the accessory rules come before the public-interface ones');
  assert.match(s, /'ufw allow from 10\.0\.0\.14 to 10\.0\.0\.16 port 5432 proto tcp' 'ufw allow from 10\.0\.0\.15 to 10\.0\.0\.16 port 5432 proto tcp'/);
  // The interface is the one holding the private address; none: nothing is touched.
  assert.match(s, /pif_0=\$\(ip -o addr show/);
  assert.match(s, /private_ip 10\.0\.0\.16 \(hosts\.json\) is no address of this host: refusing to touch the firewall/);
  for (const x of [s, renderHardeningCheck(host, openings)]) assert.equal(spawnSync('sh', ['-n'], { input: x, encoding: 'utf8' }).status, 0);
  // No openings: the script is the one without placement, byte for byte.
  assert.equal(renderHardening(host, []), renderHardening(host));
});

describe('apply, check, drift, repair of the accessory openings (stand-in tools)', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-accfw-'));
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
  stub('ip', `case "$*" in 'route show default') echo 'default via 10.0.0.1 dev eth0';; '-o addr show') echo '2: eth0    inet 203.0.113.16/24 brd 203.0.113.255 scope global eth0'; echo "3: ens10    inet \${PRIV:-10.0.0.16}/24 brd 10.0.0.255 scope global ens10";; esac`);
  stub('sshd', `[ "$1" = -T ] && echo 'port 22'`);
  stub('apt-get', 'exit 1');
  stub('ufw', `touch $ST/ufw.rules
case "$1" in
  default) echo "$2 $3" >> $ST/ufw.default;;
  allow) grep -qxF "ufw $*" $ST/ufw.rules || echo "ufw $*" >> $ST/ufw.rules;;
  delete) shift; grep -vxF "ufw $*" $ST/ufw.rules > $ST/x; mv $ST/x $ST/ufw.rules;;
  --force|reload) touch $ST/ufw.active
    sed -n '/^# BEGIN berth DOCKER-USER$/,/^# END berth DOCKER-USER$/p' $ETC/ufw/after.rules | grep '^-A ' > $ST/iptables;;
  show) echo "Added user rules (see 'ufw status' for running firewall):"; cat $ST/ufw.rules;;
  status) [ -f $ST/ufw.active ] && echo 'Status: active' || echo 'Status: inactive'; echo 'Default: deny (incoming), allow (outgoing), disabled (routed)';;
esac`);
  stub('iptables', `echo '-N DOCKER-USER'; cat $ST/iptables 2>/dev/null`);
  const sh = (script: string, env: Record<string, string> = {}) => {
    const r = spawnSync('sh', ['-c', script.replaceAll('/etc/', `${root}/etc/`)], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, ...env } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const apply = () => {
    const r = sh(renderHardening(host, openings));
    assert.equal(r.code, 0, r.err + r.out);
  };
  const check = () => sh(renderHardeningCheck(host, openings));

  test('after --harden: the rules are in UFW and in the live chain on the private interface; the check passes', () => {
    apply();
    const rules = readFileSync(join(st, 'ufw.rules'), 'utf8');
    assert.match(rules, /^ufw allow from 10\.0\.0\.14 to 10\.0\.0\.16 port 5432 proto tcp$/m);
    assert.match(readFileSync(join(st, 'iptables'), 'utf8'), /^-A DOCKER-USER -i ens10 -p tcp -m conntrack --ctorigdst 10\.0\.0\.16 --ctorigdstport 5432 -j DROP$/m);
    const r = check();
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /ok ufw: only 22\/tcp 80\/tcp 443\/tcp from 10\.0\.0\.14 to 10\.0\.0\.16 port 5432 proto tcp/);
  });

  test('a host added to the app (a new source) or a rule lost from the live chain is drift; --harden repairs it', () => {
    const more = [{ ...openings[0]!, sources: ['10.0.0.13', '10.0.0.14', '10.0.0.15'] }];
    const r = sh(renderHardeningCheck(host, more));
    assert.equal(r.code, DRIFT_EXIT);
    assert.match(r.out, /drift ufw: rules missing: ufw allow from 10\.0\.0\.13 to 10\.0\.0\.16 port 5432 proto tcp/);
    assert.match(r.out, /drift DOCKER-USER: live chain lacks: -A DOCKER-USER -s 10\.0\.0\.13\/32 -i ens10/);
    writeFileSync(join(st, 'iptables'), readFileSync(join(st, 'iptables'), 'utf8').replace(/^.*--ctorigdstport 5432 -j DROP\n/m, ''));
    const lost = check();
    assert.equal(lost.code, DRIFT_EXIT);
    assert.match(lost.out, /drift DOCKER-USER: live chain lacks: -A DOCKER-USER -i ens10 -p tcp -m conntrack --ctorigdst 10\.0\.0\.16 --ctorigdstport 5432 -j DROP/);
    apply();
    assert.equal(check().code, 0);
  });

  test('an accessory gone from the host: its openings are drift, and --harden removes them', () => {
    const r = sh(renderHardeningCheck(host, []));
    assert.equal(r.code, DRIFT_EXIT);
    assert.match(r.out, /drift ufw: rules setup did not add: ufw allow from 10\.0\.0\.14/);
    const fix = sh(renderHardening(host, []));
    assert.equal(fix.code, 0, fix.err);
    assert.doesNotMatch(readFileSync(join(st, 'ufw.rules'), 'utf8'), /5432/);
    assert.equal(sh(renderHardeningCheck(host, [])).code, 0);
  });

  test('a private_ip that is no address of the host: nothing is touched', () => {
    const before = readFileSync(join(st, 'ufw.rules'), 'utf8');
    const r = sh(renderHardening(host, openings), { PRIV: '10.0.0.99' });
    assert.equal(r.code, 2);
    assert.match(r.err, /is no address of this host/);
    assert.equal(readFileSync(join(st, 'ufw.rules'), 'utf8'), before);
  });
});
