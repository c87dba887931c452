// The order hosts of one app deploy in when its processes are placed per host (PURE). Accessories
// other hosts reach start before the processes that need them; hosts that carry no traffic do not
// take part in the rolling batches:
//   1. hosts running shared accessories and no web, all at once (a database server first);
//   2. the web hosts in rolling batches (deploy.batch_size; a fleet certificate's issuer alone
//      first), hosts running a shared accessory leading, so the others find it up;
//   3. hosts running workers without web, all at once, once every web host is live: the release
//      command (migrations) has run by then.
// A web host waits for the shared accessories it reaches when their host deploys in the same batch.
import { hostBatches } from './host-batches.ts';
import { type Placement, sharedAccessories } from './placement.ts';

export interface Rollout {
  batches: string[][];
  /** host → the hosts whose shared accessories it reaches (and waits for, when they deploy in its batch). */
  needs: Record<string, string[]>;
  /** Hosts running a shared accessory. */
  providers: string[];
}

export function planRollout(p: Placement, hosts: string[], batchSize: number | undefined, issuer?: string): Rollout {
  const shared = sharedAccessories(p);
  const providers = [...new Set(shared.flatMap((a) => p.accessories[a]!))].filter((h) => hosts.includes(h)).sort();
  const needs: Record<string, string[]> = {};
  for (const h of hosts) {
    if (!p.on[h]?.image) continue;
    // Where this host reaches each shared accessory it does not run: the first of its hosts.
    const from = shared.filter((a) => !p.accessories[a]!.includes(h)).map((a) => p.accessories[a]![0]!);
    const deps = [...new Set(from)].filter((x) => hosts.includes(x)).sort();
    if (deps.length) needs[h] = deps;
  }
  const web = hosts.filter((h) => p.on[h]?.web);
  const lead = providers.filter((h) => !p.on[h]?.web);
  const trail = hosts.filter((h) => !p.on[h]?.web && !lead.includes(h));
  const webOrdered = [...web.filter((h) => providers.includes(h)), ...web.filter((h) => !providers.includes(h))];
  const batches = [...(lead.length ? [lead] : []), ...(web.length ? hostBatches(webOrdered, batchSize, issuer) : []), ...(trail.length ? [trail] : [])];
  return { batches, needs, providers };
}
