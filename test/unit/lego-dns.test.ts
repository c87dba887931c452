// Any lego DNS provider for DNS-01: the committed table generated from lego's source, the
// environment each resolver hands lego (credentials as *_FILE only), and validation against the table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { CLOUDFLARE, PROPAGATION_SUFFIX } from '../../src/config/dns-provider.ts';
import { LEGO, parseProviderToml, providerVariable } from '../../src/config/lego-table.ts';
import { renderEdge } from '../../src/plan/render-edge.ts';
import { linesOf, rawProject, valid } from '../fixtures/config/project.ts';

const edgeWith = (resolvers: Record<string, unknown>) => ({ edge: { file: 'shared/edge.yml', data: { acme: { email: 'ops@example.com', resolvers } } } });
const composeOf = (p: ReturnType<typeof valid>) => YAML.parse(renderEdge(p).files.find((f) => f.path === 'compose.yml')!.content);

describe("lego's provider table", () => {
  it('names the lego version of the pinned Traefik and holds its providers', () => {
    assert.match(LEGO.lego, /^v4\.\d+\.\d+$/);
    assert.equal(LEGO.traefik, 'v3.6.15');
    assert.ok(Object.keys(LEGO.providers).length > 150, 'every provider of lego');
    for (const code of ['route53', 'ovh', 'hetzner', 'digitalocean', 'gcloud', 'httpreq']) assert.ok(LEGO.providers[code], code);
  });

  it('the Cloudflare row has every variable the code sets', () => {
    const cf = LEGO.providers[CLOUDFLARE.provider]!;
    assert.ok(cf.credentials.includes(CLOUDFLARE.token), 'the token variable token_secret fills');
    assert.ok(cf.additional.includes(CLOUDFLARE.baseUrl), 'the API URL api_base_url fills');
    assert.equal(providerVariable(cf, PROPAGATION_SUFFIX.timeout), 'CLOUDFLARE_PROPAGATION_TIMEOUT');
    assert.equal(providerVariable(cf, PROPAGATION_SUFFIX.polling_interval), 'CLOUDFLARE_POLLING_INTERVAL');
  });

  it("parses lego's toml: credentials, settings, and a Markdown table when there is no section", () => {
    const t = parseProviderToml('Name = "X"\nCode = "x"\n[Configuration]\n  [Configuration.Credentials]\n    X_KEY = "k"\n    X_KEY = "dup"\n  [Configuration.Additional]\n    X_TTL = "t"\n[Links]\n  API = "u"\n');
    assert.deepEqual(t, { code: 'x', provider: { name: 'X', credentials: ['X_KEY'], additional: ['X_TTL'] } });
    const md = parseProviderToml("Code = \"y\"\nAdditional = '''\n| `Y_PATH` | p |\n| `RAW` | m |\n'''\n");
    assert.deepEqual(md?.provider, { name: 'y', credentials: [], additional: ['Y_PATH'] });
    assert.equal(parseProviderToml('Name = "no code"'), undefined);
  });
});

describe('a DNS-01 resolver with any lego provider', () => {
  const httpreq = { challenge: 'dns-01', provider: 'httpreq', credentials: { HTTPREQ_ENDPOINT: 'DNS_HOOK_URL', HTTPREQ_PASSWORD: 'DNS_HOOK_PASSWORD' }, propagation: { timeout: '60s', polling_interval: '2s' } };

  it('hands lego each credential as <VARIABLE>_FILE and the provider\'s own propagation variables', () => {
    const p = valid(rawProject({}, edgeWith({ hook: httpreq })));
    const traefik = composeOf(p).services.traefik;
    assert.deepEqual(traefik.environment, {
      HTTPREQ_ENDPOINT_FILE: '/run/secrets/DNS_HOOK_URL',
      HTTPREQ_PASSWORD_FILE: '/run/secrets/DNS_HOOK_PASSWORD',
      HTTPREQ_POLLING_INTERVAL: '2',
      HTTPREQ_PROPAGATION_TIMEOUT: '60',
    });
    assert.deepEqual(traefik.secrets, ['DNS_HOOK_PASSWORD', 'DNS_HOOK_URL']);
    assert.deepEqual(renderEdge(p).secrets, ['DNS_HOOK_PASSWORD', 'DNS_HOOK_URL']);
    const st = YAML.parse(renderEdge(p).files.find((f) => f.path === 'traefik.yml')!.content);
    assert.deepEqual(st.certificatesResolvers.hook.acme.dnsChallenge, { provider: 'httpreq' });
  });

  it('Cloudflare and Route 53 side by side: each provider its own variables', () => {
    const p = valid(rawProject({}, edgeWith({
      cf: { challenge: 'dns-01', provider: 'cloudflare', token_secret: 'CF_DNS_API_TOKEN' },
      aws: { challenge: 'dns-01', provider: 'route53', credentials: { AWS_ACCESS_KEY_ID: 'AWS_KEY', AWS_SECRET_ACCESS_KEY: 'AWS_SECRET', AWS_REGION: 'AWS_REGION' } },
    })));
    assert.deepEqual(composeOf(p).services.traefik.environment, {
      AWS_ACCESS_KEY_ID_FILE: '/run/secrets/AWS_KEY',
      AWS_REGION_FILE: '/run/secrets/AWS_REGION',
      AWS_SECRET_ACCESS_KEY_FILE: '/run/secrets/AWS_SECRET',
      CF_DNS_API_TOKEN_FILE: '/run/secrets/CF_DNS_API_TOKEN',
    });
  });

  it('refuses an unknown provider (with the closest code), providers Berth cannot drive, and unknown variables', () => {
    assert.deepEqual(linesOf(rawProject({}, edgeWith({ a: { challenge: 'dns-01', provider: 'route35', credentials: { X: 'Y' } } }))), [
      `shared/edge.yml: acme.resolvers.a.provider: expected a DNS provider of lego ${LEGO.lego} (the one in Traefik v3.6.15; list: src/config/lego-dns-providers.json), got "route35"; did you mean "route53"?`,
    ]);
    const exec = linesOf(rawProject({}, edgeWith({ a: { challenge: 'dns-01', provider: 'exec', credentials: { EXEC_PATH: 'P' } } })));
    assert.deepEqual(exec, [
      'shared/edge.yml: acme.resolvers.a.provider: expected a DNS provider Berth can drive through Traefik, got "exec"; not exec: it runs a program inside the Traefik container, which Berth does not ship there; use your DNS host\'s API provider (or httpreq with a small endpoint of your own)',
    ]);
    assert.deepEqual(linesOf(rawProject({}, edgeWith({ a: { ...httpreq, credentials: { HTTPREQ_ENDPIONT: 'U' } } }))), [
      'shared/edge.yml: acme.resolvers.a.credentials.HTTPREQ_ENDPIONT: expected a variable lego\'s httpreq provider reads (HTTPREQ_ENDPOINT, HTTPREQ_MODE, HTTPREQ_HTTP_TIMEOUT, HTTPREQ_PASSWORD, HTTPREQ_POLLING_INTERVAL, HTTPREQ_PROPAGATION_TIMEOUT, HTTPREQ_USERNAME), got "HTTPREQ_ENDPIONT"; did you mean "HTTPREQ_ENDPOINT"?',
      'shared/edge.yml: acme.resolvers.a.credentials: expected the secrets lego\'s httpreq provider needs, as credentials: { <VARIABLE>: <secret name> } (its credential variables: HTTPREQ_ENDPOINT, HTTPREQ_MODE), got "HTTPREQ_ENDPIONT"; e.g. credentials: { HTTPREQ_ENDPOINT: HTTPREQ_ENDPOINT }',
    ]);
  });

  it('Cloudflare-only keys are refused elsewhere; a provider without credentials is refused', () => {
    const lines = linesOf(rawProject({}, edgeWith({ a: { challenge: 'dns-01', provider: 'httpreq', token_secret: 'T', api_base_url: 'http://x/' } })));
    assert.deepEqual(lines.map((l) => l.split(': expected')[0]), ['shared/edge.yml: acme.resolvers.a.token_secret', 'shared/edge.yml: acme.resolvers.a.api_base_url', 'shared/edge.yml: acme.resolvers.a.credentials']);
    assert.match(linesOf(rawProject({}, edgeWith({ a: { challenge: 'dns-01', provider: 'cloudflare' } })))[0]!, /acme\.resolvers\.a\.credentials: expected the secrets lego's cloudflare provider needs.*e\.g\. token_secret: CF_DNS_API_TOKEN$/);
  });

  it('two resolvers setting one variable differently are refused', () => {
    const lines = linesOf(rawProject({}, edgeWith({ a: httpreq, b: { ...httpreq, credentials: { HTTPREQ_ENDPOINT: 'OTHER' } } })));
    assert.deepEqual(lines, [
      'shared/edge.yml: acme.resolvers.b.credentials: expected the same value as acme.resolvers.a.credentials ("HTTPREQ_ENDPOINT: DNS_HOOK_URL, HTTPREQ_PASSWORD: DNS_HOOK_PASSWORD"): DNS-01 resolvers share one Traefik environment, got "HTTPREQ_ENDPOINT: OTHER"; use one DNS-01 resolver, or give them the same value',
    ]);
  });
});
