// `npm run config -- <app>` (Kamal's `kamal config`): the app's config as Berth resolved it (every
// default filled in, destinations merged), the hosts it selects, and where each secret would come
// from. Secret VALUES are never printed: only names and sources, and the text is redacted anyway.
import { stringify } from 'yaml';
import { loadProject } from '../config/load.ts';
import { filterHosts, type HostFilter } from '../config/host-filter.ts';
import { collectSecretNames, secretEnvName } from '../config/secrets.ts';
import type { App, Project } from '../config/schema.ts';
import { redact } from '../log/redact.ts';
import { appProject } from '../names.ts';
import { findApp } from './app-context.ts';

export interface ResolvedConfig {
  app: string;
  file: string;
  compose_project: string;
  hosts: Record<string, { ssh: string; roles: string[]; labels: Record<string, string> }>;
  secrets: Record<string, string>;
  config: App['config'];
}

/** Pure: the resolved view of one app. `env` only decides each secret's source; values are not read into the result. */
export function resolveConfig(project: Project, app: App, env: Readonly<Record<string, string | undefined>>, only?: HostFilter): ResolvedConfig {
  const hosts = Object.fromEntries(
    filterHosts(app, project.hosts, only).map((h) => {
      const c = project.hosts[h]!;
      return [h, { ssh: c.ssh, roles: c.roles, labels: c.labels }];
    }),
  );
  const secrets = Object.fromEntries(
    collectSecretNames(app).map((n) => [
      n,
      env[secretEnvName(n)] ? `environment (${secretEnvName(n)})` : env[n] ? `environment (${n})` : app.config.secret_commands[n] ? `command: ${app.config.secret_commands[n]}` : 'MISSING (export it, or add a secret_commands entry)',
    ]),
  );
  return { app: app.name, file: app.file, compose_project: appProject(app.name), hosts, secrets, config: app.config };
}

export async function showConfig(root: string, env: Readonly<Record<string, string | undefined>>, opts: { app: string; json?: boolean; only?: HostFilter }): Promise<string> {
  const project = await loadProject(root, { env: env as NodeJS.ProcessEnv });
  const app = findApp(project, opts.app);
  const r = resolveConfig(project, app, env, opts.only);
  const text = opts.json ? JSON.stringify(r, null, 2) : stringify(r, { lineWidth: 0 });
  // Belt and braces: a secret's value pasted into a clear key never leaves either.
  const values = collectSecretNames(app).flatMap((n) => [env[secretEnvName(n)], env[n]]).filter((v): v is string => !!v && v.length >= 4);
  return redact(text, values);
}
