// The sandbox's Cloudflare stand-in (sandbox/images/front) on its own, against stand-in origins
// that echo what they receive: round-robin, the headers Cloudflare adds, Host/SNI passed through,
// the origin TLS modes ("Full" and "Full (strict)"), and no retry that would hide a failed origin.
// Only this machine's engine and the sandbox network `berth` are used; no Berth host is touched.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FrontContainer, run, sandboxRequest, startEchoOrigin, startFront } from '../../src/sandbox/index.ts';
import { SANDBOX_NETWORK } from '../../src/sandbox/config.ts';

interface Echo {
  name: string;
  host: string;
  scheme: string;
  sni: string;
  remote: string;
  headers: Record<string, string[]>;
}

const started: FrontContainer[] = [];
const track = async (p: Promise<FrontContainer>) => {
  const c = await p;
  started.push(c);
  return c;
};

describe('front load balancer (Cloudflare stand-in)', { timeout: 180_000 }, () => {
  let e1: FrontContainer;
  let e2: FrontContainer;

  before(async () => {
    [e1, e2] = [await track(startEchoOrigin({ tlsNames: ['app.berth.test'] })), await track(startEchoOrigin({ tlsNames: ['app.berth.test'] }))];
  });
  after(async () => {
    for (const c of started) await c.stop();
    const left = await run(['docker', 'ps', '-aq', ...started.flatMap((c) => ['--filter', `name=^${c.name}$`])], { allowFail: true });
    assert.equal(left.stdout.trim(), '', 'every front and echo container is removed');
  });

  test('round-robins one origin per request, passes Host, names the origin that answered', async () => {
    const front = await track(startFront({ origins: [`http://${e1.address}`, `http://${e2.address}`] }));
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await sandboxRequest(`${front.httpUrl}/x?i=${i}`, { headers: { host: 'app.berth.test' } });
      assert.equal(r.status, 200);
      const body = JSON.parse(r.body) as Echo & { uri: string };
      assert.equal(body.host, 'app.berth.test', 'Host reaches the origin unchanged');
      assert.equal(body.uri, `/x?i=${i}`);
      const addressOf = body.name === e1.name ? e1.address : e2.address;
      assert.equal(r.headers['x-front-origin'], `http://${addressOf}`, 'X-Front-Origin names the origin that answered');
      seen.push(body.name);
    }
    const first = seen[0]!;
    const second = first === e1.name ? e2.name : e1.name;
    assert.deepEqual(seen, [first, second, first, second, first, second], 'strict alternation over both origins');
  });

  test('adds the client address as CF-Connecting-IP and to X-Forwarded-For (a client-sent CF-Connecting-IP is replaced)', async () => {
    const front = await track(startFront({ origins: [`http://${e1.address}`] }));
    // The client is a container on the same network, so its address is known exactly.
    const r = await run([
      'docker', 'run', '--rm', '--network', SANDBOX_NETWORK.name, 'berth/base:bookworm', 'sh', '-c',
      `hostname -i; curl -fsS -H 'Host: app.berth.test' -H 'CF-Connecting-IP: 6.6.6.6' -H 'X-Forwarded-For: 198.51.100.7' http://${front.address}/`,
    ]);
    const [clientIp, json] = [r.stdout.split('\n')[0]!.trim().split(/\s+/)[0]!, r.stdout.split('\n').slice(1).join('\n')];
    const body = JSON.parse(json) as Echo;
    assert.match(clientIp, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(body.headers['Cf-Connecting-Ip'], [clientIp]);
    assert.deepEqual(body.headers['X-Forwarded-For'], [`198.51.100.7, ${clientIp}`]);
    assert.deepEqual(body.headers['X-Forwarded-Proto'], ['http']);
    assert.equal(body.host, 'app.berth.test');
    assert.equal(body.remote, front.address, 'the origin sees the front as its peer');
  });

  test('a client on HTTPS is reported as https (X-Forwarded-Proto, CF-Visitor)', async () => {
    const front = await track(startFront({ origins: [`http://${e1.address}`], tlsNames: ['app.berth.test'] }));
    const port = new URL(front.httpsUrl).port;
    const r = await sandboxRequest(`https://app.berth.test:${port}/`, { ca: front.certPem, resolveTo: '127.0.0.1' });
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body) as Echo;
    assert.deepEqual(body.headers['X-Forwarded-Proto'], ['https']);
    assert.deepEqual(body.headers['Cf-Visitor'], ['{"scheme":"https"}']);
    assert.equal(body.host, `app.berth.test:${port}`, 'Host as the client sent it');
  });

  test('HTTPS origins: "Full" accepts any certificate, "Full (strict)" verifies it, SNI is the Host', async () => {
    const origin = `https://${e1.address}`;
    const full = await track(startFront({ origins: [origin], originTls: 'insecure' }));
    const r1 = await sandboxRequest(`${full.httpUrl}/`, { headers: { host: 'app.berth.test' } });
    assert.equal(r1.status, 200, r1.body);
    const b1 = JSON.parse(r1.body) as Echo;
    assert.equal(b1.scheme, 'https');
    assert.equal(b1.sni, 'app.berth.test', 'SNI to the origin is the request Host');

    const strictUnknownCa = await track(startFront({ origins: [origin] }));
    const r2 = await sandboxRequest(`${strictUnknownCa.httpUrl}/`, { headers: { host: 'app.berth.test' } });
    assert.equal(r2.status, 502, 'strict mode refuses an origin certificate it cannot verify');
    assert.match(await strictUnknownCa.logs(), /certificate/);

    const strict = await track(startFront({ origins: [origin], originCaPem: e1.certPem }));
    const r3 = await sandboxRequest(`${strict.httpUrl}/`, { headers: { host: 'app.berth.test' } });
    assert.equal(r3.status, 200, r3.body);
    const r4 = await sandboxRequest(`${strict.httpUrl}/`, { headers: { host: 'other.berth.test' } });
    assert.equal(r4.status, 502, 'strict mode checks the certificate against the Host, not only the CA');
  });

  test('a failed origin answers 502 through the front: nothing is retried on the other origin', async () => {
    const down = await track(startEchoOrigin());
    const front = await track(startFront({ origins: [`http://${e1.address}`, `http://${down.address}`] }));
    await down.stop();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await sandboxRequest(`${front.httpUrl}/`, { headers: { host: 'app.berth.test' } })).status);
    assert.deepEqual([...statuses].sort(), [200, 200, 502, 502]);
  });
});
