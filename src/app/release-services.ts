// The services of a release besides the web colours that a rollback brings back: workers, the
// Litestream replicator and backup loops. Accessories holding data (databases) are left as they
// run: a rollback never downgrades a database server.
import { parsedYaml } from '../plan/yaml.ts';
import { compose, type ComposeTarget } from '../docker/argv.ts';
import { LITESTREAM_SERVICE } from '../names.ts';
import type { Deps } from './deps.ts';

export function releaseServices(composeYml: string): string[] {
  const doc = parsedYaml(composeYml) as { services?: Record<string, unknown> };
  return Object.keys(doc?.services ?? {}).filter((s) => s.startsWith('worker-') || s === LITESTREAM_SERVICE || s.endsWith('-backup'));
}

/** `up -d --no-deps` from the release's own compose file: compose recreates what differs, leaves the rest. */
export async function restoreReleaseServices(deps: Deps, target: ComposeTarget, composeYml: string): Promise<string[]> {
  const services = releaseServices(composeYml);
  if (services.length) await deps.runner.run(compose.up(target, services));
  return services;
}
