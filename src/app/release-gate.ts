// The release command (migrations) of a deploy to several hosts at once. Against one shared
// database, the hosts' commands would race (Rails takes an advisory lock and fails the others with
// ConcurrentMigrationError), so by default it runs once: the first host to reach it runs it, the
// others wait for that result (a failure fails them too, before anything switched). An app with
// per_host_volumes may keep per-host data a release command prepares: it runs on every host.

export type ReleaseScope = 'once' | 'every';

/** Pure: where the release command runs for an app (per_host_volumes → every host). */
export const releaseScope = (perHostVolumes: readonly string[]): ReleaseScope => (perHostVolumes.length ? 'every' : 'once');

export class ReleaseGate {
  private first?: Promise<string>;
  constructor(readonly scope: ReleaseScope) {}

  /** Run `fn` for `host`, or wait for the host that ran it first; resolves to the host it ran on. */
  run(host: string, fn: () => Promise<void>): Promise<string> {
    if (this.scope === 'every') return fn().then(() => host);
    this.first ??= fn().then(() => host);
    return this.first;
  }
}
