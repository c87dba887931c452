// The sandbox hosts themselves: three machines with their own engines reached over SSH, production
// image names pulled through the mirror, ACME from Pebble through our Traefik image on h2,
// Litestream ↔ S3 from inside a host, the registry. Each run uses unique names and cleans up by label.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  PEBBLE, REGISTRY, REGISTRY_CREDENTIALS, S3, cutNetwork, hostSpec, httpRequest, httpsRequest, onConsole, onHost, rebootHost, restartDocker,
  restoreNetwork, routeDomainToHost, run, runLoad,
  sandboxCaBundle, sandboxRequest, unrouteDomain, waitFor, writeStatus, type SandboxStatus,
} from '../../src/sandbox/index.ts';

const RUN_ID = `sbx${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const LABEL = `berth.sandbox.test=${RUN_ID}`;
const H1 = hostSpec('h1');
const H2 = hostSpec('h2');
const NET = `${RUN_ID}-net`;
let st: SandboxStatus;
let ctx: string;

const docker = (args: string[], input?: string, context = ctx) => run(['docker', '--context', context, ...args], { input, timeoutMs: 180_000 });

before(async () => {
  st = await writeStatus();
  ctx = H1.context;
});

after(async () => {
  // Best-effort cleanup by label, whatever failed above.
  for (const c of [H1.context, H2.context]) {
    const ids = (await run(['docker', '--context', c, 'ps', '-aq', '--filter', `label=${LABEL}`], { allowFail: true })).stdout.split('\n').filter(Boolean);
    if (ids.length) await run(['docker', '--context', c, 'rm', '-f', '-v', ...ids], { allowFail: true });
    const vols = (await run(['docker', '--context', c, 'volume', 'ls', '-q', '--filter', `label=${LABEL}`], { allowFail: true })).stdout.split('\n').filter(Boolean);
    if (vols.length) await run(['docker', '--context', c, 'volume', 'rm', '-f', ...vols], { allowFail: true });
    await run(['docker', '--context', c, 'network', 'rm', NET], { allowFail: true });
  }
});

describe('sandbox hosts', () => {
  test('three machines, each with its own engine over its own SSH context; the bare one has no Docker before setup', async () => {
    // This lane's machines (other lanes' hosts may be rebooting under their own tests meanwhile).
    const mine = st.hosts.filter((h) => ['h1', 'h2', 'h3'].includes(h.name));
    assert.deepEqual(mine.map((h) => h.name), ['h1', 'h2', 'h3']);
    assert.deepEqual(mine.map((h) => h.sshTarget), ['ssh://root@127.0.1.1', 'ssh://root@127.0.1.2', 'ssh://root@127.0.1.3']);
    for (const h of mine) assert.ok(h.running && h.sshd, `${h.name} runs and answers SSH`);
    const ids = mine.filter((h) => h.docker).map((h) => h.docker!.id);
    assert.ok(ids.length >= 2, 'h1 and h2 have Docker');
    assert.equal(new Set(ids).size, ids.length, `engine IDs differ between hosts: ${ids.join(' ')}`);
    assert.ok(st.engine.id && !ids.includes(st.engine.id), 'and from this machine\'s engine');
    const r = await docker(['info', '--format', '{{.ServerVersion}} {{.OperatingSystem}} {{.Name}}']);
    assert.match(r.stdout, /^\d+\.\d+.* h1$/m);
    const c = await onHost(H1, 'docker compose version --short');
    assert.match(c.stdout.trim(), /^2\./);
    // Loopback only: nothing of a host is published on 0.0.0.0 here.
    const ports = (await run(['docker', 'ps', '--filter', 'label=berth.sandbox.machine', '--format', '{{.Ports}}'])).stdout;
    assert.doesNotMatch(ports, /0\.0\.0\.0:/);
    assert.match(ports, /127\.0\.1\.1:443->443/);
  });

  test('a host pulls production image names (Docker Hub) through the sandbox mirror', async () => {
    await docker(['image', 'rm', 'berth/testapp:v2'], undefined, H2.context).catch(() => undefined);
    await docker(['pull', '-q', 'berth/testapp:v2'], undefined, H2.context);
    const digests = (await docker(['image', 'inspect', '-f', '{{json .RepoDigests}}', 'berth/testapp:v2'], undefined, H2.context)).stdout;
    assert.match(digests, /berth\/testapp@sha256:/);
    const r = await onHost(H2, 'cat /etc/docker/daemon.json');
    assert.match(r.stdout, /"registry-mirrors": \["http:\/\/mirror:5000"\]/);
  });

  test('Traefik on h2 gets a Pebble certificate for a *.berth.test domain and serves a container over verified HTTPS', async (t) => {
    const project = `berth-${RUN_ID}`;
    const domain = `${RUN_ID}.berth.test`;
    const net = `${project}_default`;
    const hasTestapp = true;
    // This test's Traefik takes h2's 80/443: a Berth edge left there by another test goes first.
    await onHost(H2, 'docker ps -aq --filter label=com.docker.compose.project=berth-edge | xargs -r docker rm -f');
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
      services: {
        'socket-proxy': {
          image: 'tecnativa/docker-socket-proxy:v0.4.1',
          environment: { CONTAINERS: '1', NETWORKS: '1', SERVICES: '0', TASKS: '0', POST: '0', EVENTS: '1', PING: '1', VERSION: '1' },
          volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro'],
          labels: [LABEL],
        },
        traefik: {
          image: 'traefik:v3.6',
          command: [
            '--entrypoints.web.address=:80',
            '--entrypoints.websecure.address=:443',
            '--providers.docker.endpoint=tcp://socket-proxy:2375',
            '--providers.docker.exposedbydefault=false',
            `--providers.docker.network=${net}`,
            `--providers.docker.constraints=Label(\`berth.sandbox.test\`,\`${RUN_ID}\`)`,
            `--certificatesresolvers.pebble.acme.caserver=${PEBBLE.directoryUrl}`,
            '--certificatesresolvers.pebble.acme.email=ops@berth.test',
            '--certificatesresolvers.pebble.acme.storage=/tmp/acme.json',
            '--certificatesresolvers.pebble.acme.httpchallenge.entrypoint=web',
            '--api=true',
            '--ping=true',
          ],
          environment: { LEGO_CA_CERTIFICATES: '/certs/pebble-minica.pem', MINICA: readFileSync(st.pebble.directoryCa, 'utf8') },
          // The CA file is written from the environment: the host's filesystem is not this machine's.
          entrypoint: ['sh', '-c', 'mkdir -p /certs && printf "%s" "$$MINICA" > /certs/pebble-minica.pem && exec /entrypoint.sh "$$@"', 'traefik'],
          ports: ['80:80', '443:443'],
          depends_on: ['socket-proxy'],
          labels: hasTestapp ? [LABEL] : [...backendLabels('sbxapi'), 'traefik.http.routers.sbxapi.service=api@internal'],
        },
        ...(hasTestapp
          ? {
              app: {
                image: 'berth/testapp:v1',
                labels: [...backendLabels('sbxapp'), 'traefik.http.services.sbxapp.loadbalancer.server.port=80'],
              },
            }
          : {}),
      },
    };
    t.after(async () => {
      await run(['docker', '--context', H2.context, 'compose', '-p', project, 'down', '-v', '-t', '1'], { allowFail: true });
      await unrouteDomain(domain);
    });
    // Pebble validates HTTP-01 against what challtestsrv answers: h2's fleet address, registered
    // BEFORE Traefik starts (otherwise its first order can race the record and back off).
    await routeDomainToHost(domain, H2);
    await docker(['compose', '-p', project, '-f', '-', 'up', '-d'], JSON.stringify(compose), H2.context);
    const ip = H2.edgeAddress;

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
    const post = await docker(['run', '--rm', '--network', net, '--label', LABEL, 'berth/base:bookworm',
      'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', `http://${project}-socket-proxy-1:2375/v1.45/containers/create`], undefined, H2.context);
    assert.equal(post.stdout.trim(), '403');
  });

  test('Litestream on a host replicates a SQLite database to the S3 server (by name) and restores it', async () => {
    const vol = `${RUN_ID}-lt`;
    await docker(['volume', 'create', '--label', LABEL, vol]);
    await docker(['network', 'create', '--label', LABEL, NET]);
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
    const common = ['--rm', '--label', LABEL, '--network', NET, '-e', `LITESTREAM_ACCESS_KEY_ID=${S3.accessKeyId}`,
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

  test("a host's dockerd restart and a reboot bring sshd, dockerd and restart-policy containers back; the other hosts are untouched", async () => {
    const name = `${RUN_ID}-keep`;
    const h1Dockerd = (await onConsole(H1, 'cat /run/docker.pid')).stdout.trim();
    await docker(['run', '-d', '--name', name, '--restart', 'unless-stopped', '--label', LABEL, 'berth/base:bookworm', 'sleep', 'infinity'], undefined, H2.context);
    const started = async () => (await docker(['inspect', '-f', '{{.State.Running}} {{.State.StartedAt}}', name], undefined, H2.context)).stdout.trim();
    const s0 = await started();
    await restartDocker(H2);
    const s1 = await waitFor('container back after dockerd restart', async () => {
      const s = await started().catch(() => '');
      return s.startsWith('true') && s !== s0 ? s : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    await onHost(H2, 'touch /run/berth-e2e-marker /root/berth-e2e-marker');
    await rebootHost(H2);
    await waitFor('container back after reboot', async () => {
      const s = await started().catch(() => '');
      return s.startsWith('true') && s !== s1 ? s : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    assert.equal((await onHost(H2, 'test -e /run/berth-e2e-marker', { allowFail: true })).code, 1, '/run is empty after a reboot');
    assert.equal((await onHost(H2, 'test -e /root/berth-e2e-marker && rm /root/berth-e2e-marker')).code, 0, 'the disk is kept');
    assert.equal((await onConsole(H1, 'cat /run/docker.pid')).stdout.trim(), h1Dockerd, "h1's dockerd was not touched");
  });

  test('a host cut off the network answers nothing (SSH, 80/443) and reaches nothing; restored, it answers again', async () => {
    await cutNetwork(H2);
    try {
      assert.notEqual((await run(['ssh', '-o', 'ConnectTimeout=3', `root@${H2.sshHost}`, 'true'], { allowFail: true, timeoutMs: 20_000 })).code, 0, 'no SSH to h2');
      assert.equal((await run(['ssh', `root@${H1.sshHost}`, 'true'])).code, 0, 'h1 still answers');
      const out = await onConsole(H2, `curl -s -o /dev/null --max-time 3 http://${H1.address}/ || echo unreachable`, { allowFail: true });
      assert.match(out.stdout, /unreachable/, 'h2 cannot reach h1');
    } finally {
      await restoreNetwork(H2);
    }
    assert.equal((await onHost(H2, 'hostname')).stdout.trim(), 'h2');
    const r = await onConsole(H2, `curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://${H1.address}/`, { allowFail: true });
    assert.match(r.stdout, /^\d{3}$/, 'h2 reaches h1 again');
  });
});
