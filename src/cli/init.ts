// `berth init [<dir>]`: a new project folder — hosts.json, shared/edge.yml, apps/<app>/app.yml
// and the editor schemas — that passes `plan`. The files are validated in a scratch copy first;
// nothing is written on bad input, and nothing existing is overwritten without --force.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { renderJsonSchemas, SCHEMA_DIR } from '../config/json-schema.ts';
import { loadProject } from '../config/load.ts';
import { ConfigError, formatIssue, StepError, UsageError } from '../errors.ts';
import { createLogger } from '../log/logger.ts';
import type { CommandArgs } from './spec.ts';

export interface InitOptions {
  app: string;
  /** SSH target of the first host. */
  ssh: string;
  domain: string;
  email: string;
  image: string;
}

export const INIT_DEFAULTS = { app: 'web', ssh: 'root@203.0.113.10', image: 'nginx:1.27-alpine' } as const;
export const HOST_NAME = 'web1';

const yamlString = (s: string) => JSON.stringify(s);

/** PURE: path (relative to the project) → content. */
export function initFiles(o: InitOptions): Record<string, string> {
  const hosts = { $schema: `./${SCHEMA_DIR}/hosts.schema.json`, hosts: { [HOST_NAME]: { ssh: o.ssh, roles: ['web'] } } };
  return {
    'hosts.json': `${JSON.stringify(hosts, null, 2)}\n`,
    'shared/edge.yml': [
      `# yaml-language-server: $schema=../${SCHEMA_DIR}/edge.schema.json`,
      '# The edge every host runs: Traefik (routes through its file provider) behind a read-only socket',
      '# proxy, with certificates from ACME. berth docs edge.<key> explains any key.',
      'traefik:',
      '  image: traefik:v3.6.15',
      'acme:',
      `  email: ${yamlString(o.email)}`,
      "  ca: staging          # Let's Encrypt's staging CA for the first tries; production once it works",
      '  resolvers:',
      '    letsencrypt:',
      '      challenge: http-01',
      '',
    ].join('\n'),
    [`apps/${o.app}/app.yml`]: [
      `# yaml-language-server: $schema=../../${SCHEMA_DIR}/app.schema.json`,
      `# ${o.app}: berth plan shows what a deploy would change; berth docs <key> explains any key.`,
      `image: ${yamlString(o.image)}`,
      `hosts: [${HOST_NAME}]`,
      `domains: [${yamlString(o.domain)}]   # DNS must point at the host's address before the first deploy`,
      'port: 80',
      'healthcheck:',
      '  path: /',
      '',
    ].join('\n'),
    ...Object.fromEntries(Object.entries(renderJsonSchemas()).map(([f, c]) => [`${SCHEMA_DIR}/${f}`, c])),
  };
}

const NAME = /^[a-z][a-z0-9_-]*$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** The options from the flags, checked (UsageError naming the flag). */
export function initOptions(values: { app?: string; host?: string; domain?: string; email?: string; image?: string }, usage: string): InitOptions {
  const app = values.app ?? INIT_DEFAULTS.app;
  if (!NAME.test(app)) throw new UsageError(`--app takes a name of lowercase letters, digits, "-" and "_" starting with a letter, got ${JSON.stringify(app)}`, usage);
  let ssh = values.host ?? INIT_DEFAULTS.ssh;
  if (!ssh.includes('@')) ssh = `root@${ssh}`;
  const domain = (values.domain ?? `${app.replace(/_/g, '-')}.example.com`).toLowerCase();
  if (!DOMAIN.test(domain)) throw new UsageError(`--domain expects a domain name such as shop.example.com, got ${JSON.stringify(values.domain)}`, usage);
  const email = values.email ?? `ops@${domain.split('.').slice(-2).join('.')}`;
  return { app, ssh, domain, email, image: values.image ?? INIT_DEFAULTS.image };
}

export async function initCli({ values, positionals, usage, form }: CommandArgs<{ app?: string; host?: string; domain?: string; email?: string; image?: string; force?: boolean }>) {
  const log = createLogger({ json: !!values.json, verbose: !!values.verbose });
  // Through npm the working folder is Berth's checkout; INIT_CWD is where the user typed the line.
  const base = form === 'npm' && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();
  const dir = resolve(base, positionals[0] ?? '.');
  const files = initFiles(initOptions(values, usage));
  const exists = Object.keys(files).filter((f) => !f.startsWith(`${SCHEMA_DIR}/`) && existsSync(join(dir, f)));
  if (exists.length && !values.force) {
    throw new StepError('init', `${relative(base, dir) || '.'} already has ${exists.join(', ')}; nothing was written (--force overwrites them)`);
  }
  // Validate in a scratch copy: what lands in <dir> passes plan's validation, or nothing lands.
  const scratch = mkdtempSync(join(tmpdir(), 'berth-init-'));
  try {
    for (const [f, c] of Object.entries(files)) {
      mkdirSync(dirname(join(scratch, f)), { recursive: true });
      writeFileSync(join(scratch, f), c);
    }
    try {
      await loadProject(scratch);
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(`the flags make an invalid project: ${e.issues.map(formatIssue).join('; ')}`, usage);
      throw e;
    }
    mkdirSync(dir, { recursive: true });
    cpSync(scratch, dir, { recursive: true });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const shown = relative(base, dir) || '.';
  const app = Object.keys(files).find((f) => f.startsWith('apps/'))!.split('/')[1]!;
  if (values.json) return void log.output(JSON.stringify({ dir, files: Object.keys(files) }, null, 2));
  log.output(
    [
      `wrote ${Object.keys(files).filter((f) => !f.startsWith(`${SCHEMA_DIR}/`)).map((f) => join(shown, f)).join(', ')} and ${join(shown, SCHEMA_DIR)}/ (editor schemas)`,
      'next:',
      `  edit hosts.json (the server's SSH target) and apps/${app}/app.yml (image, domains)`,
      form === 'npm'
        ? `  BERTH_ROOT=${dir} npm run plan   (validate and render; contacts no server)`
        : `  ${shown === '.' ? '' : `cd ${shown} && `}berth plan   (validate and render; contacts no server)`,
      form === 'npm' ? `  BERTH_ROOT=${dir} npm run setup && BERTH_ROOT=${dir} npm run deploy -- ${app}` : `  berth setup && berth deploy ${app}`,
    ].join('\n'),
  );
}
