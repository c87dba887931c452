// Hostile config values: everything that reaches a shell, a Traefik rule, compose's volume syntax,
// docker's argv or a host path is refused at validation (naming file and key) or quoted so it
// cannot change the command's meaning. Tables, so a new splice point adds a row.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findDuplicateKey, loadProject } from '../../src/config/load.ts';
import { buildFileIssues } from '../../src/config/rules.ts';
import { ConfigError, formatIssue } from '../../src/errors.ts';
import { plan } from '../../src/app/plan.ts';
import { healthCommand } from '../../src/plan/render-compose.ts';
import { linesOf, rawProject, valid } from '../fixtures/config/project.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const web = (over: Record<string, unknown> = {}) => ({ image: 'ghcr.io/acme/app', hosts: ['h1'], ...over });
const tmp: string[] = [];
after(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** One app config → the issue lines (empty when valid). */
function problems(app: Record<string, unknown>): string[] {
  try {
    valid(rawProject({ a: web(app) }));
    return [];
  } catch {
    return linesOf(rawProject({ a: web(app) }));
  }
}

describe('values reaching a shell, a rule, compose or a path are refused, naming file and key', () => {
  const rows: [string, Record<string, unknown>, RegExp][] = [
    // health check path → CMD-SHELL
    ['health path with ;', { healthcheck: { path: '/up; exit 0' } }, /apps\/a\/app\.yml: healthcheck\.path: expected a URL path/],
    ['health path with a space', { healthcheck: { path: '/up || true' } }, /healthcheck\.path: expected a URL path/],
    ['health path with a backtick', { healthcheck: { path: '/up`true`' } }, /healthcheck\.path: expected a URL path/],
    ['health path with $()', { healthcheck: { path: '/$(true)' } }, /healthcheck\.path: expected a URL path/],
    ['health path with a quote', { healthcheck: { path: "/up'" } }, /healthcheck\.path: expected a URL path/],
    ['health path not absolute', { healthcheck: { path: 'up' } }, /healthcheck\.path: expected a URL path/],
    // domains → Traefik rule Host(`…`)
    ['domain with a backtick', { domains: ['a.com`) || Host(`evil.com'] }, /domains\[0\]: expected a lowercase DNS name/],
    ['domain with a space', { domains: ['a .com'] }, /domains\[0\]: expected a lowercase DNS name/],
    // volume container paths → compose `name:path`, host scripts
    ['volume path with :ro', { volumes: { data: '/data:ro' } }, /volumes\.data: expected an absolute container path.*Berth mounts named volumes/],
    ['volume path with ..', { volumes: { data: '/data/../etc' } }, /volumes\.data: expected an absolute container path without "\.\." segments/],
    ['volume path with a space', { volumes: { data: '/my data' } }, /volumes\.data: expected an absolute container path/],
    ['bind mount as a volume name', { volumes: { './data': '/data' } }, /volumes\["\.\/data"\]: expected a volume name.*not host folders/],
    ['host path as a volume value', { volumes: { data: './data:/data' } }, /volumes\.data: .*Berth mounts named volumes, not host folders/],
    // Litestream database paths → host script arguments split on "," and "|"
    ['database path with ,', { volumes: { d: '/d' }, litestream: { databases: ['/d/a,b.db'], replica: { url: 's3://b/p' } }, secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'] }, /litestream\.databases\[0\]: expected an absolute container path/],
    ['database path with |', { volumes: { d: '/d' }, litestream: { databases: ['/d/a|b.db'], replica: { url: 's3://b/p' } }, secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'] }, /litestream\.databases\[0\]: expected an absolute container path/],
    ['replica URL with a space', { volumes: { d: '/d' }, litestream: { databases: ['/d/a.db'], replica: { url: 's3://b/my prefix' } }, secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'] }, /litestream\.replica\.url: expected an S3 URL/],
    ['replica URL with ..', { volumes: { d: '/d' }, litestream: { databases: ['/d/a.db'], replica: { url: 's3://b/p/../other' } }, secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'] }, /litestream\.replica\.url: expected an S3 URL without "\.\." segments/],
    // images → docker run / pull argv
    ['accessory image that is a flag', { accessories: { pg: { image: '--privileged' } } }, /accessories\.pg\.image: expected an image reference/],
    ['litestream image with ;', { volumes: { d: '/d' }, litestream: { image: 'x;id', databases: ['/d/a.db'], replica: { url: 's3://b/p' } }, secrets: ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY'] }, /litestream\.image: expected an image reference/],
    ['app image tag with ;', { image: 'ghcr.io/acme/app:v1;id' }, /image: expected an image reference/],
    ['app image tag with /..', { image: 'ghcr.io/acme/app:../x' }, /image: expected an image reference/],
    // registry and build args → docker login / build argv
    ['registry server that is a flag', { registry: { server: '--config=/tmp', username: 'u', password_secret: 'T' }, secrets: ['T'] }, /registry\.server: expected a registry address/],
    ['registry user that is a flag', { registry: { server: 'ghcr.io', username: '-x', password_secret: 'T' }, secrets: ['T'] }, /registry\.username: expected a registry user name/],
    ['build arg name with =', { build: { on: 'host', args: { 'A=B': 'x' } } }, /build\.args\["A=B"\]: expected a build argument name/],
    // names → host paths and Docker names
    ['accessory name with /', { accessories: { '../x': { image: 'postgres:16' } } }, /accessories\["\.\.\/x"\]: expected a accessory name/],
    ['secret name with $', { secrets: ['A$B'] }, /secrets\[0\]: expected an environment variable name/],
  ];
  for (const [what, app, re] of rows) {
    it(what, () => {
      const lines = problems(app);
      assert.ok(lines.length > 0, `${what}: accepted`);
      assert.match(lines.join('\n'), re);
    });
  }

  it('hosts.json: an SSH target with shell syntax or an out-of-range port', () => {
    for (const ssh of ['root@host;id', 'root@$(id)', 'root@h:0', 'root@h:65536']) {
      const lines = linesOf(rawProject({}, { hostsFile: { file: 'hosts.json', data: { hosts: { h1: { ssh } } } } }));
      assert.match(lines.join('\n'), /^hosts\.json: hosts\.h1\.ssh: expected an SSH/m, ssh);
    }
  });

  it('the values the example apps use stay valid', () => {
    valid(rawProject({ a: web({ healthcheck: { path: '/up?full=1&x=%20' }, volumes: { storage: '/rails/storage' }, domains: ['www.example.com'] }) }));
  });
});

describe('the default health check is one quoted word, whatever the path', () => {
  // Run the rendered check with a stand-in curl that fails (the app is down): the check must fail
  // too. Unquoted, "/x; exit 0" would make it pass ("exit 0" runs as a command of its own).
  const dir = mkdtempSync(join(tmpdir(), 'berth-hc-'));
  tmp.push(dir);
  writeFileSync(join(dir, 'curl'), '#!/bin/sh\nprintf "%s\\n" "$#" "$@" > "$CURL_ARGS"\nexit 22\n', { mode: 0o755 });
  const hostile = ['/x; exit 0', '/x || true', '/x`true`', '/$(exit 0)', "/x'; exit 0; '", '/x\nexit 0', '/x&& exit 0', '/x > /dev/null; exit 0 #'];
  for (const path of hostile) {
    it(JSON.stringify(path), () => {
      const args = join(dir, 'args');
      let code = 0;
      try {
        execFileSync('sh', ['-c', healthCommand(80, path)], { env: { PATH: `${dir}:/usr/bin:/bin`, CURL_ARGS: args }, stdio: 'ignore' });
      } catch (e) {
        code = (e as { status: number }).status;
      }
      assert.equal(code, 1, 'the health check passed while the app is down');
      const seen = readdirSync(dir).includes('args') ? execFileSync('cat', [args], { encoding: 'utf8' }).split('\n') : [];
      assert.deepEqual(seen.slice(0, 3), ['2', '-fsS', `http://127.0.0.1:80${path}`.split('\n')[0]!]);
    });
  }
  it('a plain path renders unquoted (committed compose files unchanged)', () => {
    assert.equal(healthCommand(3000, '/up'), 'curl -fsS http://127.0.0.1:3000/up > /dev/null || exit 1');
  });
});

describe('files: duplicate JSON keys, files the config names', () => {
  function project(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), 'berth-hostile-'));
    tmp.push(root);
    cpSync(join(repo, 'shared'), join(root, 'shared'), { recursive: true });
    writeFileSync(join(root, 'hosts.json'), '{ "hosts": { "h1": { "ssh": "root@203.0.113.1" } } }\n');
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), c);
    }
    return root;
  }
  async function loadLines(root: string): Promise<string[]> {
    try {
      await loadProject(root, { env: {} });
      return [];
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return e.issues.map(formatIssue);
    }
  }

  it('hosts.json with a key twice: file, line, key path, where the first one is', async () => {
    const root = project({ 'apps/a/app.yml': 'image: ghcr.io/acme/a\nhosts: [h1]\n' });
    writeFileSync(join(root, 'hosts.json'), '{\n  "hosts": {\n    "h1": { "ssh": "root@203.0.113.1" },\n    "h1": { "ssh": "root@203.0.113.2" }\n  }\n}\n');
    assert.deepEqual(await loadLines(root), [
      'hosts.json:4:5: hosts.h1: expected each key once, got duplicate key "h1"; it is already set on line 3; delete one (JSON would silently keep only the last)',
    ]);
  });

  it('app.json with a key twice', async () => {
    const root = project({ 'apps/a/app.json': '{\n  "image": "ghcr.io/acme/a",\n  "hosts": ["h1"],\n  "port": 3000,\n  "port": 80\n}\n' });
    assert.deepEqual(await loadLines(root), [
      'apps/a/app.json:5:3: port: expected each key once, got duplicate key "port"; it is already set on line 4; delete one (JSON would silently keep only the last)',
    ]);
  });

  it('findDuplicateKey: nested objects, arrays, escaped quotes', () => {
    assert.deepEqual(findDuplicateKey('{"a": [{"x": 1}, {"x": 1, "x": 2}]}'), { key: 'x', path: 'a[1].x', line: 1, column: 27, firstLine: 1 });
    assert.equal(findDuplicateKey('{"a\\"b": 1, "c": {"a\\"b": 2}, "d": ["x", "x"]}'), undefined);
  });

  it('an origin certificate that is not there: named at plan time, nothing written', async () => {
    const root = project({
      'apps/a/app.yml': 'image: ghcr.io/acme/a\nhosts: [h1]\ndomains: [a.example.com]\nsecrets: [K]\ntls: { mode: origin-certificate, cert_file: certs/origin.pem, key_secret: K }\n',
    });
    const lines = await loadLines(root);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^apps\/a\/app\.yml: tls\.cert_file: expected a PEM certificate file \(relative to the app folder\), got no file at .*\/apps\/a\/certs\/origin\.pem; save the Cloudflare origin certificate there/);
    await assert.rejects(plan({ root, env: {}, gitCommit: async () => 'abc1234', log: { output() {}, addSecrets() {} } }), ConfigError);
    assert.throws(() => readdirSync(join(root, 'compose')), /ENOENT/);
    mkdirSync(join(root, 'apps/a/certs'));
    writeFileSync(join(root, 'apps/a/certs/origin.pem'), 'PEM');
    assert.deepEqual(await loadLines(root), []);
  });

  it('an SSH identity file that is not there', async () => {
    const root = project({ 'apps/a/app.yml': 'image: ghcr.io/acme/a\nhosts: [h1]\n' });
    writeFileSync(join(root, 'hosts.json'), '{ "hosts": { "h1": { "ssh": "root@203.0.113.1", "identity_file": "keys/id_ed25519" } } }\n');
    assert.match((await loadLines(root)).join('\n'), /^hosts\.json: hosts\.h1\.identity_file: expected a private key file for SSH, got no file at .*\/keys\/id_ed25519; fix the path/m);
    mkdirSync(join(root, 'keys'));
    writeFileSync(join(root, 'keys/id_ed25519'), 'KEY');
    assert.deepEqual(await loadLines(root), []);
  });

  it('a custom ACME CA root that is not there', async () => {
    const root = project({ 'apps/a/app.yml': 'image: ghcr.io/acme/a\nhosts: [h1]\n' });
    writeFileSync(join(root, 'shared/edge.yml'), 'acme:\n  email: ops@example.com\n  ca: custom\n  ca_server: https://ca.test/dir\n  ca_root: ca/root.pem\n');
    assert.match((await loadLines(root)).join('\n'), /^shared\/edge\.yml: acme\.ca_root: expected a PEM file \(relative to shared\/\), got no file at .*shared\/ca\/root\.pem/m);
  });

  it('build context and Dockerfile (checked for the app being deployed)', () => {
    const p = valid(rawProject({ a: web({ build: { context: 'src', on: 'host' } }) }));
    const app = p.apps[0]!;
    const none = () => false;
    assert.deepEqual(buildFileIssues(app, none).map(formatIssue), [
      "apps/a/app.yml: build.context: expected a build context folder (relative to the app folder), got no folder at /p/apps/a/src; point build.context at the app's source folder",
    ]);
    const dirOnly = (_p: string, kind: string) => kind === 'dir';
    assert.deepEqual(buildFileIssues(app, dirOnly).map(formatIssue), [
      'apps/a/app.yml: build.dockerfile: expected a Dockerfile (relative to build.context), got no file at /p/apps/a/src/Dockerfile; fix build.dockerfile, or add the file',
    ]);
    assert.deepEqual(buildFileIssues(app, () => true), []);
  });

  it('a release id that is not one path segment is refused by plan before anything is written', async () => {
    const root = project({ 'apps/a/app.yml': 'image: ghcr.io/acme/a\nhosts: [h1]\n' });
    for (const release of ['v1;id', '../../x', 'a b']) {
      await assert.rejects(plan({ root, env: {}, gitCommit: async () => undefined, log: { output() {}, addSecrets() {} } }, { release }), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /^command line: --release: expected a Docker image tag/);
        return true;
      });
    }
    assert.throws(() => readdirSync(join(root, 'compose')), /ENOENT/);
  });
});
