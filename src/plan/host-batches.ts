// Which hosts deploy together (pure). Each host is blue/green on its own, so hosts of a batch run
// in parallel; a batch starts only after every host of the previous one is live, so a release
// that fails its health gate stops the rollout at the first batch.

/**
 * `hosts` in deploy order, cut into batches of `size` (undefined: one batch). A fleet certificate's
 * `issuer` deploys alone first: the other hosts copy its certificate before their route exists.
 */
export function hostBatches(hosts: string[], size: number | undefined, issuer?: string): string[][] {
  const first = issuer && hosts.includes(issuer) && hosts.length > 1 ? [[issuer]] : [];
  const rest = first.length ? hosts.filter((h) => h !== issuer) : hosts;
  const n = Math.max(1, size ?? rest.length);
  const batches: string[][] = [...first];
  for (let i = 0; i < rest.length; i += n) batches.push(rest.slice(i, i + n));
  return batches;
}
