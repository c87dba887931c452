// Maintenance mode: the page, the page server's config and project, its routes (each just above the
// app's own, never above a neighbour's longer prefix), and the host scripts' switch and restore,
// run through sh against stand-ins for curl (Traefik's API) and docker.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { maintenanceParts } from '../../src/exec/maintenance-scripts.ts';
import { parseObservation } from '../../src/exec/state.ts';
import {
  DEFAULT_PAGE,
  maintenanceRouterNames,
  renderMaintenanceCompose,
  renderMaintenanceHaproxy,
  renderMaintenancePage,
  renderMaintenanceRouting,
} from '../../src/plan/render-maintenance.ts';
import { renderRouting } from '../../src/plan/render-routing.ts';
import { pick } from './traefik-match.ts';
import { makeApp, makeProject } from './plan-fixtures.ts';

import type { Router } from './traefik-match.ts';
const routersOf = (yml: string) => (YAML.parse(yml) as { http: { routers: Record<string, Router> } }).http.routers;
const base = { image: 'example/app', hosts: ['h1'], domains: ['example.com'] };

describe('the page', () => {
  it("fills kamal-proxy's template forms with the message, HTML-escaped", () => {
    const t = '<p>{{ if .Message }}<b>{{ .Message }}</b>{{ else }}default{{ end }}</p><i>{{.Message}}</i>';
    assert.equal(renderMaintenancePage(t, 'back <soon> & "then"'), '<p><b>back &lt;soon&gt; &amp; &quot;then&quot;</b></p><i>back &lt;soon&gt; &amp; &quot;then&quot;</i>');
    assert.equal(renderMaintenancePage(t, undefined), '<p>default</p><i></i>');
    assert.equal(renderMaintenancePage('{{ if .Message }}x{{ end }}static', '  '), 'static');
  });

  it('the default page says maintenance, with or without a message', () => {
    assert.match(renderMaintenancePage(undefined, 'Back at 14:00'), /<h1>Down for maintenance<\/h1>\n<p>Back at 14:00<\/p>/);
    assert.match(renderMaintenancePage(undefined, undefined), /will be back shortly/);
    assert.doesNotMatch(renderMaintenancePage(undefined, undefined), /\{\{/);
    assert.ok(DEFAULT_PAGE.length < 2000);
  });

  it("HAProxy answers every request with the page and 503; its buffer holds the page", () => {
    const small = renderMaintenanceHaproxy(900);
    assert.match(small, /^ {2}http-request return status 503 content-type "text\/html; charset=utf-8" file \/berth\/503\.html hdr Cache-Control no-store hdr Retry-After 60$/m);
    assert.match(small, /tune\.bufsize 20480$/m);
    assert.match(renderMaintenanceHaproxy(500_000), /tune\.bufsize 520192$/m);
  });
});

describe('the page server', () => {
  it("runs HAProxy from the socket proxy's image (already on every host) under the app's maintenance alias", () => {
    const app = makeApp('shop_app', base);
    const doc = YAML.parse(renderMaintenanceCompose(makeProject([app]), app));
    assert.equal(doc.name, 'berth-maintenance_shop-app');
    const page = doc.services.page;
    assert.equal(page.image, 'tecnativa/docker-socket-proxy:v0.4.1');
    assert.deepEqual([page.entrypoint, page.command], [['haproxy'], ['-W', '-db', '-f', '/berth/haproxy.cfg']]);
    assert.deepEqual(page.volumes, ['/var/lib/berth/apps/shop_app/maintenance:/berth:ro']);
    assert.deepEqual(page.networks, { berth: { aliases: ['shop-app-maintenance'] } });
    assert.deepEqual(doc.networks, { berth: { external: true } });
  });
});

describe('the routes', () => {
  it("every route of the app, same rule and certificate, just above the app's own", () => {
    const app = makeApp('site', { ...base, www: 'alias', path_prefix: ['/a', '/b'] });
    const own = routersOf(renderRouting(app, 'blue'));
    const m = routersOf(renderMaintenanceRouting(app));
    assert.deepEqual(Object.keys(m), maintenanceRouterNames(app));
    assert.deepEqual(Object.keys(m), ['site_maintenance-https', 'site_maintenance-http', 'site_maintenance-https-2', 'site_maintenance-http-2']);
    for (const [name, r] of Object.entries(m)) {
      const mine = own[name.replace('site_maintenance', 'site')]!;
      assert.equal(r.rule, mine.rule);
      assert.equal(r.priority, mine.priority + 5);
      assert.equal(r.service, 'site_maintenance');
      assert.deepEqual(r.tls, mine.tls);
    }
    assert.deepEqual(m['site_maintenance-http']!.middlewares, ['site_maintenance-redirect-https']);
  });

  it('tls none: HTTP routers serve the page', () => {
    const m = routersOf(renderMaintenanceRouting(makeApp('site', { ...base, tls: { mode: 'none' } })));
    assert.deepEqual(Object.keys(m), ['site_maintenance-http']);
    assert.equal(m['site_maintenance-http']!.middlewares, undefined);
  });

  it("an app in maintenance shadows none of its neighbours' routes", () => {
    const site = makeApp('site', base);
    const blog = makeApp('blog', { ...base, path_prefix: '/blog' });
    const all = { ...routersOf(renderRouting(site, 'blue')), ...routersOf(renderRouting(blog, 'green')), ...routersOf(renderMaintenanceRouting(site)) };
    assert.equal(pick(all, 'websecure', { host: 'example.com', path: '/' }), 'site_maintenance-https');
    assert.equal(pick(all, 'websecure', { host: 'example.com', path: '/blogger' }), 'site_maintenance-https');
    assert.equal(pick(all, 'websecure', { host: 'example.com', path: '/blog/x' }), 'blog-https');
    // And the other way round: the blog in maintenance leaves the site serving.
    const other = { ...routersOf(renderRouting(site, 'blue')), ...routersOf(renderRouting(blog, 'green')), ...routersOf(renderMaintenanceRouting(blog)) };
    assert.equal(pick(other, 'websecure', { host: 'example.com', path: '/' }), 'site-https');
    assert.equal(pick(other, 'websecure', { host: 'example.com', path: '/blog' }), 'blog_maintenance-https');
  });
});

describe('observe', () => {
  it('reads the maintenance record', () => {
    const s = parseObservation('--lock\n--maintenance\n{"since":"2026-12-07T10:00:00.000Z","message":"m","routes":"abc"}\n--releases\n--end\n');
    assert.deepEqual(s.maintenance, { since: '2026-12-07T10:00:00.000Z', message: 'm', routes: 'abc' });
    assert.equal(parseObservation('--lock\n--maintenance\n--releases\n').maintenance, undefined);
  });
});

/** A host stand-in: Traefik's API answers from files (code, body), docker does nothing. */
function host() {
  const dir = mkdtempSync(join(tmpdir(), 'berth-maint-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  mkdirSync(join(dir, 'dynamic'));
  mkdirSync(join(dir, 'maint'));
  writeFileSync(join(bin, 'curl'), `#!/bin/sh\necho "$*" >> ${dir}/curl.log\ncase "$*" in *http_code*) cat ${dir}/code;; *) cat ${dir}/body;; esac\n`);
  writeFileSync(join(bin, 'docker'), `#!/bin/sh\necho "$*" >> ${dir}/docker.log\n`);
  for (const f of ['curl', 'docker']) chmodSync(join(bin, f), 0o755);
  const run = (part: { script: string; args: string[] }) => spawnSync('sh', ['-c', part.script, 'sh', ...part.args], { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8', timeout: 30_000 });
  return { dir, run, route: join(dir, 'dynamic', 'app.maintenance.yml'), state: join(dir, 'state.json'), maint: join(dir, 'maint') };
}

describe('the host scripts', () => {
  it('route: renames the route in, waits for every router to be enabled, then records the state', () => {
    const h = host();
    writeFileSync(join(h.maint, 'route.yml'), 'new routes\n');
    writeFileSync(join(h.dir, 'body'), '{"name":"x","status":"enabled"}');
    const r = h.run(maintenanceParts.on('route', h.maint, 'p', h.route, h.state, '{"since":"s","routes":"r2"}', ['app_maintenance-https', 'app_maintenance-http']));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^confirmed \d+$/m);
    assert.equal(readFileSync(h.route, 'utf8'), 'new routes\n');
    assert.equal(readFileSync(h.state, 'utf8'), '{"since":"s","routes":"r2"}\n');
    assert.match(readFileSync(join(h.dir, 'curl.log'), 'utf8'), /routers\/app_maintenance-http@file/);
  });

  it('a route Traefik does not enable is put back as it was; the state is not written', () => {
    const h = host();
    writeFileSync(h.route, 'old routes\n');
    writeFileSync(join(h.maint, 'route.yml'), 'broken routes\n');
    writeFileSync(join(h.dir, 'body'), '{"status":"disabled","error":["the service does not exist"]}');
    const r = h.run(maintenanceParts.on('route', h.maint, 'p', h.route, h.state, '{}', ['app_maintenance-https']));
    assert.equal(r.status, 1);
    assert.match(r.stdout, /did not enable app_maintenance-https; route restored\. API said: .*does not exist/);
    assert.equal(readFileSync(h.route, 'utf8'), 'old routes\n');
    assert.ok(!existsSync(h.state));
  });

  it('live: the route goes, and only once Traefik has dropped the service is the page server stopped', () => {
    const h = host();
    writeFileSync(h.route, 'routes\n');
    writeFileSync(h.state, '{}');
    writeFileSync(join(h.maint, 'compose.yml'), 'services: {}\n');
    writeFileSync(join(h.dir, 'code'), '404');
    const r = h.run(maintenanceParts.off(h.maint, 'berth-maintenance_app', h.route, h.state, 'app_maintenance'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^live \d+$/m);
    assert.ok(!existsSync(h.route) && !existsSync(h.state) && !existsSync(h.maint));
    assert.match(readFileSync(join(h.dir, 'docker.log'), 'utf8'), /compose --ansi never -p berth-maintenance_app -f .*compose\.yml down -t 2/);
    assert.match(readFileSync(join(h.dir, 'curl.log'), 'utf8'), /services\/app_maintenance@file/);
  });

  it('live: a service Traefik keeps is not followed by stopping the page server; the route comes back', () => {
    const h = host();
    writeFileSync(h.route, 'routes\n');
    writeFileSync(join(h.maint, 'route.yml'), 'routes\n');
    writeFileSync(join(h.dir, 'code'), '200');
    const r = h.run(maintenanceParts.off(h.maint, 'p', h.route, h.state, 'app_maintenance'));
    assert.equal(r.status, 1);
    assert.match(r.stdout, /still routes to the maintenance page/);
    assert.equal(readFileSync(h.route, 'utf8'), 'routes\n');
    assert.ok(!existsSync(join(h.dir, 'docker.log')), 'docker never called');
  });

  it('live when not in maintenance changes nothing', () => {
    const h = host();
    const r = h.run(maintenanceParts.off(join(h.dir, 'none'), 'p', h.route, h.state, 'app_maintenance'));
    assert.equal(r.stdout.trim(), 'not-in-maintenance');
    assert.ok(!existsSync(join(h.dir, 'docker.log')));
  });
});
