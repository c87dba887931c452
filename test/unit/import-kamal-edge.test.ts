// Kamal import of the edge options: proxy.buffering, response_timeout, path_prefix(es),
// strip_path_prefix and error_pages_path (pure mapping; the result validates with Berth's schema).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appSchema } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/errors.ts';
import { importKamal } from '../../src/import/kamal.ts';

const base = { service: 'app', image: 'u/app', servers: ['1.2.3.4'] };
const imp = (deploy: Record<string, unknown>) => importKamal({ deployFile: 'config/deploy.yml', deploy: { ...base, ...deploy }, kamalRootFromApp: () => '../../kamal' });
const notes = (r: ReturnType<typeof imp>) => r.notes.map((n) => `${n.status} ${n.key}: ${n.text}`).join('\n');

test('proxy edge options map to their Berth keys, and the result passes the schema', () => {
  const r = imp({
    error_pages_path: 'public/',
    proxy: {
      host: 'example.com',
      ssl: true,
      response_timeout: 10,
      path_prefix: '/api,/oauth_callback',
      strip_path_prefix: false,
      buffering: { requests: true, responses: true, max_request_body: '40_000_000', max_response_body: 0, memory: 2_000_000 },
    },
  });
  assert.equal(r.app.response_timeout, '10s');
  assert.deepEqual(r.app.path_prefix, ['/api', '/oauth_callback']);
  assert.equal(r.app.strip_path_prefix, false);
  assert.deepEqual(r.app.buffering, { requests: true, responses: true, max_request_body: 40_000_000, max_response_body: 0, memory: 2_000_000 });
  assert.equal(r.app.error_pages_path, '../../kamal/public');
  assert.ok(appSchema.safeParse(r.app).success, JSON.stringify(appSchema.safeParse(r.app).error?.issues));
  assert.doesNotMatch(notes(r), /unmapped (proxy\.|error_pages_path)/);
  assert.match(notes(r), /mapped error_pages_path: error_pages_path: \.\.\/\.\.\/kamal\/public \(its 503\.html is the maintenance page/);
});

test('path_prefixes as a list, one prefix as a string', () => {
  assert.deepEqual(imp({ proxy: { host: 'example.com', path_prefixes: ['/blog'] } }).app.path_prefix, '/blog');
});

test("Kamal's default buffering is said, not silently dropped; requests-only buffering becomes both, with the reason", () => {
  assert.match(notes(imp({ proxy: { host: 'example.com' } })), /mapped proxy\.buffering: Kamal buffers requests and responses by default, Berth does not/);
  const r = imp({ proxy: { host: 'example.com', buffering: { responses: false, max_request_body: 1000 } } });
  assert.deepEqual(r.app.buffering, { requests: true, responses: true, max_request_body: 1000 });
  assert.match(notes(r), /Kamal buffered requests only; Traefik's buffering middleware buffers both or neither \(server-sent events are held back until they end\)/);
  const off = imp({ proxy: { host: 'example.com', buffering: { requests: false, max_request_body: 1000 } } });
  assert.deepEqual(off.app.buffering, { requests: false, responses: false });
  assert.match(notes(off), /unmapped proxy\.buffering\.max_request_body: a limit needs request buffering/);
});

test('bad values are refused naming the Kamal key', () => {
  assert.throws(
    () => imp({ error_pages_path: '../outside', proxy: { host: 'example.com', path_prefix: '/a b', response_timeout: 'soon', buffering: { max_request_body: '40MB' } } }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.issues.map((i) => i.path).sort(), ['error_pages_path', 'proxy.buffering.max_request_body', 'proxy.path_prefix', 'proxy.response_timeout']);
      return true;
    },
  );
});
