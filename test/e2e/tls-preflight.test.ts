// Pre-flight before HTTP-01: a domain that does not resolve (through the sandbox's DNS) to the host
// being deployed stops the deploy before anything changes on the host, so no order reaches the CA.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { CFMOCK, PEBBLE } from '../../src/sandbox/config.ts';
import { sandboxRequest } from '../../src/sandbox/http.ts';
import { DEFAULT_ACME_ADDRESS, ensureDnsChallengeServices } from '../../src/sandbox/services.ts';
import { H1, hostsFor, makeProject, resetApps, type TestProject } from './support/project.ts';

const RUN = randomBytes(3).toString('hex');
const APP = 'tlspf';
const DOMAIN = `pf-${RUN}.berth.test`;
// The address the sandbox's DNS gives every name without its own record: where h1's edge answers.
const H1_PUBLIC = DEFAULT_ACME_ADDRESS;
let p: TestProject;

const setA = (host: string, addresses: string[]) =>
  sandboxRequest(`${CFMOCK.managementUrl}/${addresses.length ? 'set-a' : 'clear-a'}`, { method: 'POST', body: JSON.stringify({ host, addresses }) });
const onH1 = (script: string) => execFileSync('ssh', ['-p', String(H1.sshPort), `${H1.sshUser}@${H1.sshHost}`, script], { encoding: 'utf8' });

before(async () => {
  await ensureDnsChallengeServices();
  resetApps([APP]);
  p = makeProject();
  const hosts = hostsFor();
  (hosts.hosts[H1.name] as Record<string, unknown>).public_ip = H1_PUBLIC;
  writeFileSync(join(p.root, 'hosts.json'), JSON.stringify(hosts, null, 2));
  writeFileSync(
    join(p.root, 'shared', 'edge.yml'),
    YAML.stringify({
      traefik: { image: 'traefik:v3.6.15' },
      socket_proxy: { image: 'tecnativa/docker-socket-proxy:v0.4.1' },
      acme: {
        email: 'ops@example.com',
        ca: 'custom',
        ca_server: PEBBLE.directoryUrl,
        ca_root: 'pebble-minica.pem',
        preflight: { check: 'refuse', dns_server: CFMOCK.hostDnsServer },
        resolvers: { letsencrypt: { challenge: 'http-01' } },
      },
    }),
  );
  p.writeApp(APP, {
    image: 'berth/testapp:v1',
    hosts: [H1.name],
    domains: [DOMAIN],
    port: 80,
    healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
    deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 25 },
  });
  const setup = await p.berth('setup', [H1.name]);
  assert.equal(setup.code, 0, setup.all);
});

after(async () => {
  await setA(DOMAIN, []).catch(() => undefined);
  resetApps([APP]);
  p?.cleanup();
});

test('a domain pointing elsewhere stops the deploy before anything changes, naming the domain, its address and the right one', async () => {
  assert.equal((await setA(DOMAIN, ['198.51.100.7'])).status, 200);
  const r = await p.berth('deploy', [APP]);
  assert.notEqual(r.code, 0, r.all);
  assert.match(r.all, new RegExp(`${DOMAIN.replace(/\./g, '\\.')} resolves to 198\\.51\\.100\\.7, but it should resolve to ${H1_PUBLIC.replace(/\./g, '\\.')} \\(h1, hosts\\.json: hosts\\.h1\\.public_ip\\)`));
  assert.match(r.all, /acme\.preflight\.check: warn in shared\/edge\.yml/);
  assert.ok(!/\n\s+at .*\(.*\.ts:\d+/.test(r.all), 'no stack trace');
  // Nothing reached the host: no release, no route (so Traefik never ordered a certificate for it).
  assert.equal(onH1(`test -e /var/lib/berth/apps/${APP} && echo yes || echo no; test -e /var/lib/berth/edge/dynamic/${APP}.yml && echo yes || echo no`).trim(), 'no\nno');
});

test('once the domain resolves to the host, the deploy goes ahead', async () => {
  assert.equal((await setA(DOMAIN, [])).status, 200); // back to the default answer: h1's address
  const r = await p.berth('deploy', [APP]);
  assert.equal(r.code, 0, r.all);
  assert.match(r.all, /tls pre-flight/);
  assert.equal(onH1(`test -e /var/lib/berth/edge/dynamic/${APP}.yml && echo yes || echo no`).trim(), 'yes');
});
