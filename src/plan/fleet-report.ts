// What a multi-host deploy that stopped part-way leaves behind, host by host (pure): hosts are
// deployed in batches, so after a failure some run the new release and others the old.

export interface FleetHostState {
  host: string;
  /** The release live on the host now, if known. */
  live?: string;
  colour?: string;
  /** How the deploy went there. */
  outcome: 'deployed' | 'noop' | 'dry-run' | 'failed' | 'not attempted';
  /** Why it could not be read (the host was unreachable after the failure). */
  unknown?: string;
}

export function formatFleetReport(app: string, release: string, failedHost: string, reason: string, hosts: FleetHostState[]): string {
  const width = Math.max(...hosts.map((h) => h.host.length));
  const lines = hosts.map((h) => {
    const runs = h.unknown ? `unknown (${h.unknown})` : h.live ? `${h.live}${h.colour ? ` (${h.colour})` : ''}` : 'nothing (not deployed)';
    const note =
      h.outcome === 'deployed' ? 'new release, deployed now'
      : h.outcome === 'noop' ? 'already on the new release'
      : h.outcome === 'dry-run' ? 'dry run, nothing changed'
      : h.outcome === 'failed' ? 'deploy failed here; its previous release keeps serving'
      : 'not attempted';
    return `  ${h.host.padEnd(width)}  runs ${runs} — ${note}`;
  });
  // A pulled image's id is appended per host (<tag>-<config hash>-<image id>): same release.
  const onNew = hosts.filter((h) => !h.unknown && (h.live === release || h.live?.startsWith(`${release}-`))).length;
  return [
    `deploy of ${app} ${release} stopped at ${failedHost}: ${reason}`,
    `${onNew} of ${hosts.length} hosts run ${release}; host by host:`,
    ...lines,
    `Fix the cause and rerun the deploy: hosts already on ${release} are left untouched, the others converge.`,
  ].join('\n');
}
