// The sandbox host itself: engine over SSH, ACME from Pebble through our Traefik image, Litestream ↔ S3, registry.
// Each run uses unique names and cleans up by label.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  PEBBLE, REGISTRY, REGISTRY_CREDENTIALS, S3, SANDBOX_NETWORK, httpRequest, httpsRequest, readSandboxStatus, run, runLoad,
  sandboxCaBundle, sandboxRequest, waitFor, writeStatus, type SandboxStatus,
} from '../../src/sandbox/index.ts';

const RUN_ID = `sbx${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const LABEL = `berth.sandbox.test=${RUN_ID}`;
let st: SandboxStatus;
let ctx: string;

const docker = (args: string[], input?: string) => run(['docker', '--context', ctx, ...args], { input, timeoutMs: 180_000 });

before(async () => {
  st = await readSandboxStatus().catch(() => writeStatus());
  ctx = st.hosts[0]!.context;
});

after(async () => {
  // Best-effort cleanup by label, whatever failed above.
  const ids = (await run(['docker', '--context', ctx, 'ps', '-aq', '--filter', `label=${LABEL}`], { allowFail: true })).stdout.split('\n').filter(Boolean);
  if (ids.length) await run(['docker', '--context', ctx, 'rm', '-f', '-v', ...ids], { allowFail: true });
  const vols = (await run(['docker', '--context', ctx, 'volume', 'ls', '-q', '--filter', `label=${LABEL}`], { allowFail: true })).stdout.split('\n').filter(Boolean);
  if (vols.length) await run(['docker', '--context', ctx, 'volume', 'rm', '-f', ...vols], { allowFail: true });
});

describe('sandbox host', () => {
  test('docker info works over the SSH context', async () => {
    assert.equal(st.hosts[0]!.sshTarget, 'ssh://root@127.0.0.1:2222');
    const r = await docker(['info', '--format', '{{.ServerVersion}} {{.OperatingSystem}}']);
    assert.match(r.stdout, /^\d+\.\d+/);
    const c = await docker(['compose', 'version', '--short']);
    assert.match(c.stdout.trim(), /^2\./);
  });

  test('Traefik gets a Pebble certificate for a *.berth.test domain and serves a container over verified HTTPS', async (t) => {
    const project = `berth-${RUN_ID}`;
    const domain = `${RUN_ID}.berth.test`;
    // High in the sandbox /24, away from the addresses Docker hands out from the bottom.
    const traefikIp = `172.30.0.${200 + (parseInt(createHash('sha256').update(RUN_ID).digest('hex').slice(0, 4), 16) % 50)}`;
    const hasTestapp = (await run(['docker', '--context', ctx, 'image', 'inspect', 'berth/testapp:v1'], { allowFail: true })).code === 0;
    const backendLabels = (svc: string) => [
      'traefik.enable=true',
      `traefik.http.routers.${svc}.rule=Host(\`${domain}\`)`,
      `traefik.http.routers.${svc}.entrypoints=websecure`,
      `traefik.http.routers.${svc}.tls.certresolver=pebble`,
      `traefik.http.routers.${svc}-http.rule=Host(\`${domain}\`)`,
      `traefik.http.routers.${svc}-http.entrypoints=web`,
      `traefik.http.routers.${svc}-http.middlewares=${svc}-https`,
      `traefik.http.middlewares.${svc}-https.redirectscheme.scheme=https`,
      LABEL,
    ];
    const compose = {
      name: project,
      networks: { berth: { external: true, name: SANDBOX_NETWORK.name } },
      services: {
        'socket-proxy': {
          image: 'tecnativa/docker-socket-proxy:v0.4.1',
          environment: { CONTAINERS: '1', NETWORKS: '1', SERVICES: '0', TASKS: '0', POST: '0', EVENTS: '1', PING: '1', VERSION: '1' },
          volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro'],
          networks: ['berth'],
          labels: [LABEL],
        },
        traefik: {
          image: 'traefik:v3.6',
          command: [
            '--entrypoints.web.address=:80',
            '--entrypoints.websecure.address=:443',
            '--providers.docker.endpoint=tcp://socket-proxy:2375',
            '--providers.docker.exposedbydefault=false',
            `--providers.docker.network=${SANDBOX_NETWORK.name}`,
            `--providers.docker.constraints=Label(\`berth.sandbox.test\`,\`${RUN_ID}\`)`,
            `--certificatesresolvers.pebble.acme.caserver=${PEBBLE.directoryUrl}`,
            '--certificatesresolvers.pebble.acme.email=ops@berth.test',
            '--certificatesresolvers.pebble.acme.storage=/tmp/acme.json',
            '--certificatesresolvers.pebble.acme.httpchallenge.entrypoint=web',
            '--api=true',
            '--ping=true',
          ],
          environment: { LEGO_CA_CERTIFICATES: '/certs/pebble-minica.pem' },
          volumes: [`${st.pebble.directoryCa}:/certs/pebble-minica.pem:ro`],
          // A fixed address, registered with challtestsrv BEFORE Traefik starts: otherwise its first
          // ACME order can race the DNS record, fail validation and back off past the test's wait.
          networks: { berth: { ipv4_address: traefikIp } },
          depends_on: ['socket-proxy'],
          labels: hasTestapp ? [LABEL] : [...backendLabels('sbxapi'), 'traefik.http.routers.sbxapi.service=api@internal'],
        },
        ...(hasTestapp
          ? {
              app: {
                image: 'berth/testapp:v1',
                networks: ['berth'],
                labels: [...backendLabels('sbxapp'), 'traefik.http.services.sbxapp.loadbalancer.server.port=80'],
              },
            }
          : {}),
      },
    };
    t.after(async () => {
      await run(['docker', '--context', ctx, 'compose', '-p', project, 'down', '-v', '-t', '1'], { allowFail: true });
      await sandboxRequest(`${PEBBLE.challManagementUrl}/clear-a`, { method: 'POST', body: JSON.stringify({ host: `${domain}.` }) }).catch(() => undefined);
    });
    // Pebble validates HTTP-01 against what challtestsrv answers: this Traefik's address on `berth`
    // (the shared edge's published ports are not needed, so this test does not collide with a running edge).
    const add = await sandboxRequest(`${PEBBLE.challManagementUrl}/add-a`, { method: 'POST', body: JSON.stringify({ host: `${domain}.`, addresses: [traefikIp] }) });
    assert.equal(add.status, 200);
    await docker(['compose', '-p', project, '-f', '-', 'up', '-d'], JSON.stringify(compose));
    const cid = (await docker(['compose', '-p', project, 'ps', '-q', 'traefik'])).stdout.trim();
    const ip = (await docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${SANDBOX_NETWORK.name}").IPAddress}}`, cid])).stdout.trim();
    assert.equal(ip, traefikIp);

    sandboxCaBundle(true); // pick up the current Pebble roots
    const res = await waitFor(
      `HTTPS on ${domain}`,
      async () => {
        const r = await httpsRequest(`https://${domain}/${hasTestapp ? '' : 'api/version'}`, { resolveTo: ip, timeoutMs: 5000 });
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    assert.ok(res.peerCertificate?.subjectaltname?.includes(domain), `certificate names ${domain}`);
    assert.match(JSON.stringify(res.peerCertificate?.issuer), /Pebble/i);
    if (hasTestapp) {
      assert.equal(res.headers['x-release'], 'v1');
      const load = await runLoad({ url: `https://${domain}/`, ratePerSec: 20, maxRequests: 20, maxDurationMs: 5000, keepAlive: true, request: { resolveTo: ip } });
      assert.equal(load.samples.length, 20);
      assert.deepEqual(load.failures, []);
      assert.deepEqual(load.releaseCounts, { v1: 20 });
    } else {
      assert.match(res.body, /Version/);
    }
    const plain = await httpRequest(`http://${domain}/`, { resolveTo: ip });
    assert.ok([301, 302, 307, 308].includes(plain.status), `HTTP redirects to HTTPS (got ${plain.status})`);
    assert.equal(plain.headers.location, `https://${domain}/`);

    // The socket proxy is read-only: POST is refused.
    const post = await docker(['run', '--rm', '--network', SANDBOX_NETWORK.name, '--label', LABEL, 'berth/base:bookworm',
      'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', `http://${project}-socket-proxy-1:2375/v1.45/containers/create`]);
    assert.equal(post.stdout.trim(), '403');
  });

  test('Litestream replicates a SQLite database to the S3 server and restores it', async () => {
    const vol = `${RUN_ID}-lt`;
    await docker(['volume', 'create', '--label', LABEL, vol]);
    const cfg = [
      'dbs:',
      '  - path: /data/app.sqlite3',
      '    replica:',
      '      type: s3',
      `      bucket: ${S3.bucket}`,
      `      path: ${RUN_ID}/app`,
      `      endpoint: ${S3.networkEndpoint}`,
      `      region: ${S3.region}`,
      '      force-path-style: true',
      '      sync-interval: 1s',
      '',
    ].join('\n');
    const common = ['--rm', '--label', LABEL, '--network', SANDBOX_NETWORK.name, '-e', `LITESTREAM_ACCESS_KEY_ID=${S3.accessKeyId}`,
      '-e', `LITESTREAM_SECRET_ACCESS_KEY=${S3.secretAccessKey}`, '-e', `CFG=${cfg}`, '--entrypoint', 'sh'];
    const q = 'select id, body from notes order by id';
    await docker(['run', '--rm', '--label', LABEL, '-v', `${vol}:/data`, 'berth/base:bookworm', 'sqlite3', '/data/app.sqlite3',
      `PRAGMA journal_mode=WAL; create table notes(id integer primary key, body text); insert into notes(body) values ('a'),('b'),('${RUN_ID}');`]);
    const expected = (await docker(['run', '--rm', '--label', LABEL, '-v', `${vol}:/data`, 'berth/base:bookworm', 'sqlite3', '/data/app.sqlite3', q])).stdout;
    assert.match(expected, new RegExp(RUN_ID));
    // Replicate for a few seconds (SIGTERM makes Litestream flush and exit).
    await docker(['run', ...common, '-v', `${vol}:/data`, 'litestream/litestream:0.5', '-c',
      'printf "%s" "$CFG" > /etc/litestream.yml && timeout -s TERM 6 litestream replicate; test $? -eq 124 || test $? -eq 0']);
    // Restore into a fresh container without the volume.
    const restored = await docker(['run', ...common, 'litestream/litestream:0.5', '-c',
      `printf "%s" "$CFG" > /etc/litestream.yml && litestream restore -o /tmp/r.sqlite3 /data/app.sqlite3 >&2 && sqlite3 /tmp/r.sqlite3 '${q}'`]);
    assert.equal(restored.stdout, expected);
  });

  test('an image pushed to the sandbox registry with docker login pulls through the host context', async () => {
    const creds = JSON.parse(readFileSync(REGISTRY_CREDENTIALS, 'utf8')) as { registry: string; username: string; password: string };
    assert.equal(creds.registry, REGISTRY.address);
    const ref = `${creds.registry}/${RUN_ID}/base:test`;
    await run(['docker', 'login', creds.registry, '-u', creds.username, '--password-stdin'], { input: creds.password });
    try {
      await run(['docker', 'tag', 'berth/base:bookworm', ref]);
      await run(['docker', 'push', '-q', ref], { timeoutMs: 180_000 });
      await run(['docker', 'rmi', ref]);
      await docker(['pull', '-q', ref]);
      const id = (await docker(['image', 'inspect', '-f', '{{.Id}}', ref])).stdout.trim();
      assert.match(id, /^sha256:/);
    } finally {
      await run(['docker', 'rmi', ref], { allowFail: true });
    }
    // Without credentials the registry refuses.
    const anon = await sandboxRequest(`http://${creds.registry}/v2/`);
    assert.equal(anon.status, 401);
  });
});
