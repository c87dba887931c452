// Services a release does not define (PURE): what a deploy or rollback stops and removes, so the
// host runs exactly the target release's services (a worker or accessory only another release had
// does not keep running). Volumes are never removed with them.
import { parsedYaml } from './yaml.ts';
import type { ContainerInfo } from '../exec/state.ts';

export function orphanServices(containers: Pick<ContainerInfo, 'service'>[], composeYml: string): string[] {
  const defined = new Set(Object.keys((parsedYaml(composeYml) as { services?: Record<string, unknown> })?.services ?? {}));
  return [...new Set(containers.map((c) => c.service).filter((s) => s && !defined.has(s)))].sort();
}
