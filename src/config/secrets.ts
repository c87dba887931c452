// Secret VALUES: config lists names only; values come from the operator's environment
// (BERTH_SECRET_<NAME>, then <NAME>) or from the app's secret_commands (e.g. "gh auth token").
// Pure apart from the injected command runner, so tests pass a fake one.
import { ConfigError, type Issue } from '../errors.ts';
import type { App, EdgeConfig } from './schema.ts';
import { usedSecrets } from './rules.ts';
import { dnsCredentials } from './dns-provider.ts';

/** Runs a secret command on the operator machine and returns its stdout. */
export type SecretCommandRunner = (command: string, name: string) => Promise<string>;

export const secretEnvName = (name: string) => `BERTH_SECRET_${name}`;

/** Every secret an app needs on its hosts: declared secrets, secret_commands and every use. Sorted. */
export function collectSecretNames(app: App): string[] {
  const names = new Set<string>([...app.config.secrets, ...Object.keys(app.config.secret_commands)]);
  for (const u of usedSecrets(app)) names.add(u.name);
  return [...names].sort();
}

/** Secrets the edge needs: its `secrets` list plus each DNS-01 resolver's credentials. Sorted. */
export function collectEdgeSecretNames(edge: EdgeConfig): string[] {
  const names = new Set<string>(edge.secrets);
  for (const r of Object.values(edge.acme.resolvers)) if (r.challenge === 'dns-01') for (const s of Object.values(dnsCredentials(r))) names.add(s);
  return [...names].sort();
}

/**
 * Resolve each name: env BERTH_SECRET_<NAME>, then env <NAME>, then the app's secret command.
 * Throws one ConfigError listing every secret that has no value, and how to provide it.
 * An empty value counts as missing. A failing command propagates the runner's error.
 */
export async function resolveSecrets(
  names: readonly string[],
  app: Pick<App, 'name' | 'file'> & { config: Pick<App['config'], 'secret_commands'> },
  env: Readonly<Record<string, string | undefined>>,
  run: SecretCommandRunner,
): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  const missing: Issue[] = [];
  const commands = app.config?.secret_commands ?? {};
  for (const name of [...new Set(names)].sort()) {
    const fromEnv = env[secretEnvName(name)] || env[name];
    if (fromEnv) {
      values[name] = fromEnv;
      continue;
    }
    const command = commands[name];
    if (command) {
      const out = (await run(command, name)).replace(/\r?\n$/, '');
      if (out) {
        values[name] = out;
        continue;
      }
      missing.push({
        file: app.file ?? app.name,
        path: `secret_commands.${name}`,
        expected: `a value for secret ${name}`,
        found: `empty output from ${JSON.stringify(command)}`,
        hint: `fix the command, or export ${secretEnvName(name)}`,
      });
      continue;
    }
    missing.push({
      file: app.file ?? app.name,
      path: `secrets`,
      expected: `a value for secret ${name}`,
      found: 'nothing',
      hint: `export ${secretEnvName(name)}=… (or ${name}=…), or add secret_commands: { ${name}: "<command printing it>" }`,
    });
  }
  if (missing.length) throw new ConfigError(missing);
  return values;
}

/** Edge secrets (e.g. the Cloudflare DNS token) come from the environment only. */
export function resolveEdgeSecrets(
  names: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  file = 'shared/edge.yml',
): Promise<Record<string, string>> {
  return resolveSecrets(names, { name: 'edge', file, config: { secret_commands: {} } }, env, async () => '');
}
