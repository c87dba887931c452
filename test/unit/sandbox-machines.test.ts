// The sandbox's machines and mirror, as data: what `docker run` gets for a host and which names the mirror serves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostSpec } from '../../src/sandbox/config.ts';
import { machineRunArgv, renderSshClientBlock } from '../../src/sandbox/hosts.ts';
import { mirrorPath, mirroredTags } from '../../src/sandbox/mirror.ts';

test('machines: privileged, own docker volume, fixed fleet address, ports on loopback 127.0.1.N only', () => {
  const h2 = hostSpec('h2');
  const argv = machineRunArgv(h2, 'abc');
  const ports = argv.flatMap((a, i) => (argv[i - 1] === '-p' ? [a] : []));
  assert.deepEqual(ports, ['127.0.1.2:22:22', '127.0.1.2:80:80', '127.0.1.2:443:443']);
  assert.ok(argv.includes('--privileged') && argv.includes('--init'));
  assert.equal(argv[argv.indexOf('--ip') + 1], '10.77.0.12');
  assert.ok(argv.includes('berth-sandbox-host-h2-docker:/var/lib/docker'));
  assert.equal(argv.at(-1), 'berth/machine-docker:trixie');
  assert.equal(machineRunArgv(hostSpec('h3'), 'x').at(-1), 'berth/machine:trixie', 'h3 starts bare');
  assert.throws(() => hostSpec('web1'), /h1, h2/);
});

test('ssh client block: one Host line for the machines, our key and known_hosts', () => {
  const b = renderSshClientBlock();
  // A pattern, not a list: a checkout bringing up other hosts keeps every machine in the block.
  assert.match(b, /^Host 127\.0\.1\.\*$/m);
  assert.match(b, /IdentitiesOnly yes/);
});

test('mirror: Docker Hub paths for the production names; sandbox-internal images stay out', () => {
  assert.deepEqual(mirrorPath('traefik:v3.6.15'), { repo: 'library/traefik', tag: 'v3.6.15' });
  assert.deepEqual(mirrorPath('tecnativa/docker-socket-proxy:v0.4.1'), { repo: 'tecnativa/docker-socket-proxy', tag: 'v0.4.1' });
  assert.deepEqual(mirrorPath('berth/testapp'), { repo: 'berth/testapp', tag: 'latest' });
  assert.deepEqual(mirroredTags(['postgres:16', 'berth/pebble:latest', 'berth/debian:trixie', 'berth/machine:trixie', 'berth/testapp:v1', 'postgres:16']),
    ['berth/testapp:v1', 'postgres:16']);
});
