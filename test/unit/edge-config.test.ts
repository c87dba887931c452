// Validation of the edge options in app.yml (path_prefix, buffering, response_timeout,
// error_pages_path): each problem names the file, the key and the fix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { linesOf, rawProject, valid } from '../fixtures/config/project.ts';

const web = (over: Record<string, unknown> = {}) => ({ image: 'ghcr.io/acme/app', hosts: ['h1'], domains: ['example.com'], ...over });

describe('path routing across apps', () => {
  it('two apps on one domain under different prefixes (nested ones too) are accepted', () => {
    const p = valid(rawProject({ site: web(), blog: web({ path_prefix: '/blog' }), admin: web({ path_prefix: ['/blog/admin', '/admin'] }) }));
    assert.deepEqual(p.apps.map((a) => a.config.path_prefix), [['/blog/admin', '/admin'], '/blog', undefined]);
  });

  it('the same domain and prefix claimed twice is refused with file, key and fix', () => {
    assert.deepEqual(linesOf(rawProject({ blog: web({ path_prefix: '/blog' }), news: web({ domains: ['news.example.com', 'example.com'], path_prefix: ['/news', '/blog'] }) })), [
      'apps/news/app.yml: path_prefix[1]: expected a domain and path prefix no other app claims, got "example.com/blog"; "example.com/blog" is already routed to blog (apps/blog/app.yml: path_prefix); give one of them another path_prefix (a longer one nests: "/blog/admin" beside "/blog" is fine)',
    ]);
  });

  it('a www alias takes part: www.example.com/blog claimed twice', () => {
    const lines = linesOf(rawProject({ a: web({ www: 'alias', path_prefix: '/blog' }), b: web({ domains: ['www.example.com'], path_prefix: '/blog' }) }));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /^apps\/b\/app\.yml: path_prefix: expected a domain and path prefix no other app claims, got "www\.example\.com\/blog"/);
  });

  it('apps sharing a domain must agree on tls', () => {
    assert.deepEqual(linesOf(rawProject({ site: web(), blog: web({ path_prefix: '/blog', tls: { mode: 'none' } }) })), [
      'apps/site/app.yml: tls: expected the same tls as blog (apps/blog/app.yml), which serves "example.com" too: {"mode":"none"}, got {"mode":"acme","resolver":"letsencrypt"}; apps on one domain share its certificate and its redirect to HTTPS; give both the same tls',
    ]);
  });

  it('prefixes that are not plain path segments are refused by the schema', () => {
    for (const bad of ['blog', '/blog/', '/', '/a b', '/a`b', '/../x', '/x/./y', ['/a', '/a']]) {
      const lines = linesOf(rawProject({ a: web({ path_prefix: bad }) }));
      assert.equal(lines.length, 1, `${JSON.stringify(bad)}: ${lines.join('\n')}`);
      assert.match(lines[0]!, /^apps\/a\/app\.yml: path_prefix/);
    }
  });
});

describe('buffering, limits and timeouts', () => {
  it('requests and responses are buffered together (one Traefik middleware)', () => {
    assert.deepEqual(linesOf(rawProject({ a: web({ buffering: { requests: true } }) })), [
      "apps/a/app.yml: buffering.responses: expected the same value as buffering.requests (true): Traefik's buffering middleware buffers requests and responses together, got false; set both to true (limits, slow clients kept off the app; server-sent events are held back until they end) or both to false (streaming)",
    ]);
  });

  it('a body limit needs buffering', () => {
    assert.deepEqual(linesOf(rawProject({ a: web({ buffering: { max_request_body: '10m' } }) })), [
      'apps/a/app.yml: buffering.max_request_body: expected a limit only with buffering.requests: true (the edge enforces it while buffering), got "10m"; set buffering.requests and buffering.responses to true, or remove the limit',
    ]);
    valid(rawProject({ a: web({ buffering: { requests: true, responses: true, max_request_body: 40_000_000, max_response_body: '1g', memory: '2m' } }) }));
  });

  it('sizes and durations are checked', () => {
    const lines = linesOf(rawProject({ a: web({ buffering: { requests: true, responses: true, max_request_body: '10 MB', memory: -1 }, response_timeout: '30' }) }));
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('apps/a/app.yml: buffering.max_request_body: expected')));
    assert.ok(lines.some((l) => l.startsWith('apps/a/app.yml: buffering.memory: expected')));
    assert.ok(lines.some((l) => l.startsWith('apps/a/app.yml: response_timeout: expected a duration')));
  });
});

describe('error_pages_path', () => {
  it('a relative folder must exist in the app folder; an absolute path is inside the image', () => {
    const raw = rawProject({ a: web({ error_pages_path: 'public' }), b: web({ domains: ['b.example.com'], error_pages_path: '/rails/public' }) });
    raw.exists = (path) => path === '/nowhere';
    assert.deepEqual(linesOf(raw), [
      'apps/a/app.yml: error_pages_path: expected a folder relative to the app folder (or an absolute path inside the image), got no folder at /p/apps/a/public; create it with a 503.html, or fix the path',
    ]);
    raw.exists = (path, kind) => path === '/p/apps/a/public' && kind === 'dir';
    valid(raw);
  });

  it('no ".." inside the image and no shell syntax (a folder beside the app folder is fine, as build.context)', () => {
    valid(rawProject({ a: web({ error_pages_path: '../../kamal/public' }) }));
    for (const bad of ['/rails/../etc', 'pages;rm', '$(id)', 'a b']) {
      assert.equal(linesOf(rawProject({ a: web({ error_pages_path: bad }) })).length, 1, bad);
    }
  });
});
