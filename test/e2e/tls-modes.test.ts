// zen_miner's TLS cases behind Cloudflare: an origin that speaks plain HTTP (tls: none, no redirect),
// and Full (strict) with a Cloudflare origin certificate (here a self-signed one) served by Traefik.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { httpRequest, httpsRequest } from '../../src/sandbox/http.ts';
import { makeProject, resetApps, type TestProject } from './support/project.ts';

const APPS = ['cfplain', 'cforigin'];
let p: TestProject;
let originKey = '';
let originCert = '';

const base = (name: string) => ({
  image: 'berth/testapp:v1',
  hosts: ['h1'],
  domains: [`${name}.berth.test`],
  port: 80,
  healthcheck: { path: '/up', interval: '1s', timeout: '1s', retries: 3, start_period: '1s' },
  deploy: { retire_seconds: 2, stop_timeout_seconds: 5, health_timeout_seconds: 25 },
});

before(async () => {
  resetApps(APPS);
  p = makeProject();
  p.writeApp('cfplain', { ...base('cfplain'), tls: { mode: 'none' } });
  p.writeApp('cforigin', { ...base('cforigin'), secrets: ['ORIGIN_KEY'], tls: { mode: 'origin-certificate', cert_file: 'origin.pem', key_secret: 'ORIGIN_KEY' } });
  const dir = join(p.root, 'apps', 'cforigin');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/CN=cforigin.berth.test',
    '-addext', 'subjectAltName=DNS:cforigin.berth.test', '-keyout', join(dir, 'origin.key'), '-out', join(dir, 'origin.pem')], { stdio: 'ignore' });
  originKey = readFileSync(join(dir, 'origin.key'), 'utf8');
  originCert = readFileSync(join(dir, 'origin.pem'), 'utf8');
  const setup = await p.berth('setup', ['h1']);
  assert.equal(setup.code, 0, setup.all);
});

after(() => {
  resetApps(APPS);
  p?.cleanup();
});

test('tls: none serves plain HTTP at the origin, without redirecting to HTTPS', async () => {
  const r = await p.berth('deploy', ['cfplain']);
  assert.equal(r.code, 0, r.all);
  const res = await httpRequest('http://cfplain.berth.test/');
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-release'], 'v1');
});

test('tls: origin-certificate serves the uploaded certificate, and its key stays out of output', async () => {
  const r = await p.berth('deploy', ['cforigin'], { ORIGIN_KEY: originKey });
  assert.equal(r.code, 0, r.all);
  const res = await httpsRequest('https://cforigin.berth.test/', { ca: originCert });
  assert.equal(res.status, 200);
  assert.match(JSON.stringify(res.peerCertificate?.subject), /cforigin\.berth\.test/);
  const keyLine = originKey.split('\n')[1]!;
  assert.ok(!r.all.includes(keyLine), 'no line of the private key in Berth output');
  const plain = await httpRequest('http://cforigin.berth.test/x');
  assert.ok([301, 308].includes(plain.status), 'HTTP still redirects to HTTPS');
});
