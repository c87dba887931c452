// `npm run demo` builds only the sandbox images it uses (and what they are built FROM) and brings up
// only h1: every image the example project and the sandbox services it needs run is among them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { DEMO_ROOT } from '../../src/cli/demo.ts';
import { hostSpec, MIRROR, PEBBLE, REGISTRY, S3, FLEET_DNS } from '../../src/sandbox/config.ts';
import { discoverImages, withDependencies } from '../../src/sandbox/images.ts';
import { DEMO_SANDBOX } from '../../src/sandbox/up.ts';

test('the demo builds what it runs, and not the images only tests use', async () => {
  const dirs = await discoverImages();
  const names = withDependencies(DEMO_SANDBOX.images, dirs);
  const tags = new Set(dirs.filter((d) => names.includes(d.name)).flatMap((d) => d.tags));
  const app = YAML.parse(readFileSync(join(DEMO_ROOT, 'apps', 'wombatworkouts', 'app.yml'), 'utf8')) as { image: string; litestream: { image: string }; hosts: string[] };
  const edge = YAML.parse(readFileSync(join(DEMO_ROOT, 'shared', 'edge.yml'), 'utf8')) as { traefik: { image: string }; socket_proxy: { image: string } };
  const needed = [
    app.image, app.image.replace(/:v1$/, ':v2'), // README's "Then try" deploys --release v2
    app.litestream.image, edge.traefik.image, edge.socket_proxy.image,
    ...app.hosts.map((h) => hostSpec(h).image),
    PEBBLE.image, S3.image, REGISTRY.image, MIRROR.image, FLEET_DNS.image,
  ];
  assert.deepEqual(needed.filter((t) => !tags.has(t)), [], 'an image the demo runs is not built');
  assert.deepEqual([...DEMO_SANDBOX.hosts], app.hosts);
  for (const only of ['testapp', 'cfmock', 'pebble-dns', 'front', 'postgres']) assert.ok(!names.includes(only), `${only} is built for the demo`);
  for (const base of ['debian', 'base', 'machine']) assert.ok(names.includes(base), `${base} (built FROM) is missing`);
});
