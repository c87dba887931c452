// Rendering an app whose processes are placed per host: one compose file per host holding exactly
// what runs there, each host's release folder, and the accessory addresses each host gets.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { appSchema, edgeSchema, hostSchema, type App, type Project } from '../../src/config/schema.ts';
import { hostComposePath, renderApp } from '../../src/plan/render-app.ts';
import { filesFor } from '../../src/plan/types.ts';
import { interpolated } from './plan-fixtures.ts';

const app: App = {
  name: 'topo',
  dir: '/project/apps/topo',
  file: 'apps/topo/app.yml',
  config: appSchema.parse({
    image: 'ghcr.io/acme/topo',
    roles: ['web'],
    domains: ['topo.example.com'],
    env: { RAILS_ENV: 'production' },
    secrets: ['POSTGRES_PASSWORD'],
    workers: { jobs: { command: 'bin/jobs', hosts: ['h5'], resources: { memory: '256m' } } },
    accessories: {
      db: {
        image: 'postgres:16',
        host: 'h6',
        port: '5432:5432',
        volumes: { pgdata: '/var/lib/postgresql/data' },
        secrets: ['POSTGRES_PASSWORD'],
        files: { '/docker-entrypoint-initdb.d/setup.sql': 'db/setup.sql' },
        backup: { schedule: 'daily' },
      },
    },
  }),
};
const project: Project = {
  root: '/project',
  hosts: {
    h4: hostSchema.parse({ ssh: 'root@192.0.2.4', roles: ['web'], private_ip: '10.0.0.4' }),
    h5: hostSchema.parse({ ssh: 'root@192.0.2.5', roles: ['web'], private_ip: '10.0.0.5' }),
    h6: hostSchema.parse({ ssh: 'root@192.0.2.6', roles: ['db'], private_ip: '10.0.0.6' }),
  },
  edge: edgeSchema.parse({ acme: { email: 'ops@example.com' } }),
  apps: [app],
};
const r = renderApp(project, app, { release: 'r1' });
type Doc = { services: Record<string, Record<string, any>>; volumes?: Record<string, unknown>; secrets?: Record<string, unknown> }; // eslint-disable-line @typescript-eslint/no-explicit-any
const doc = (h: string) => YAML.parse(r.files.find((f) => f.path === hostComposePath(h))!.content) as Doc;

test('one compose file per host, each with exactly its processes', () => {
  assert.deepEqual(r.files.map((f) => f.path), ['hosts/h4/compose.yml', 'hosts/h5/compose.yml', 'hosts/h6/compose.yml', 'routing.blue.yml', 'routing.green.yml']);
  assert.deepEqual(r.hosts, ['h4', 'h5', 'h6']);
  assert.deepEqual(Object.keys(doc('h4').services), ['web-blue', 'web-green']);
  assert.deepEqual(Object.keys(doc('h5').services), ['web-blue', 'web-green', 'worker-jobs']);
  assert.deepEqual(Object.keys(doc('h6').services), ['db', 'db-backup']);
  // The database's volume only where it runs; the app's secret only where the app runs (and the accessory mounts it).
  assert.equal(doc('h4').volumes, undefined);
  assert.deepEqual(Object.keys(doc('h6').volumes ?? {}), ['pgdata']);
  assert.match(r.files[0]!.content, /release r1: what host h4 runs\./);
});

test('each host is told where the database lives; the database publishes on its private address only', () => {
  for (const h of ['h4', 'h5']) {
    const env = doc(h).services['web-blue']!.environment as Record<string, string>;
    assert.equal(env.DB_HOST, '10.0.0.6');
    assert.equal(env.DB_PORT, '5432');
  }
  assert.equal((doc('h5').services['worker-jobs']!.environment as Record<string, string>).DB_HOST, '10.0.0.6');
  assert.equal(doc('h5').services['worker-jobs']!.mem_limit, '256m', "the worker's own resources");
  assert.deepEqual(doc('h6').services.db!.ports, ['10.0.0.6:5432:5432']);
  // Kamal's files: uploaded beside the release, mounted read-only.
  assert.ok((doc('h6').services.db!.volumes as string[]).includes('/var/lib/berth/apps/topo/accessory-files/db/docker-entrypoint-initdb.d/setup.sql:/docker-entrypoint-initdb.d/setup.sql:ro'));
});

test("each host's release folder: its own compose.yml; routing only where web runs", () => {
  assert.deepEqual(filesFor(r, 'h4').map((f) => f.path), ['compose.yml', 'routing.blue.yml', 'routing.green.yml']);
  assert.deepEqual(filesFor(r, 'h6').map((f) => f.path), ['compose.yml']);
  assert.equal(filesFor(r, 'h6')[0]!.content, r.files.find((f) => f.path === 'hosts/h6/compose.yml')!.content);
  // Deterministic, and the release id's config hash covers every host's file.
  assert.deepEqual(renderApp(project, app, { release: 'r1' }), r);
  const moved = renderApp({ ...project, hosts: { ...project.hosts, h6: hostSchema.parse({ ssh: 'root@192.0.2.6', private_ip: '10.0.0.66' }) } }, app, { release: 'r1' });
  assert.notEqual(moved.configHash, r.configHash);
});

const composeAvailable = () => spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;

test('every host file passes `docker compose config`', { skip: !composeAvailable() && 'docker compose CLI not available' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-placement-'));
  try {
    for (const h of ['h4', 'h5', 'h6']) {
      const file = join(dir, `${h}.yml`);
      const text = r.files.find((f) => f.path === hostComposePath(h))!.content;
      writeFileSync(file, text);
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
      for (const n of interpolated(text)) env[n] = 'dummy';
      execFileSync('docker', ['compose', '-f', file, 'config', '--quiet', '--no-path-resolution'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
