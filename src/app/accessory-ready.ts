// Within one deploy: a host running a shared accessory says when it is up (or failed), and the
// hosts that reach it wait for that before their release command and start. Only hosts already
// started in this deploy are waited for (one deploying in a later batch cannot be: its accessories
// are then taken as they run now), so the wait never deadlocks on the batch order.
import type { Deps } from './deps.ts';
import { StepError } from '../errors.ts';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class AccessoriesReady {
  private readonly hosts = new Map<string, Deferred>();
  private readonly started = new Set<string>();

  constructor(providers: readonly string[]) {
    for (const h of providers) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      promise.catch(() => {}); // awaited by the hosts that need it; never an unhandled rejection
      this.hosts.set(h, { promise, resolve, reject });
    }
  }

  /** `host` starts deploying now. */
  start(host: string): void {
    this.started.add(host);
  }

  /** `host`'s shared accessories are up (or it failed before they were: `err`). Idempotent. */
  settle(host: string, err?: unknown): void {
    const d = this.hosts.get(host);
    if (!d) return;
    if (err === undefined) d.resolve();
    else d.reject(err);
  }

  /** Wait for the shared accessories on `providers` (those deploying in this run); fails naming the host whose accessories did not come up. */
  async wait(deps: Deps, host: string, providers: readonly string[]): Promise<void> {
    for (const p of providers) {
      const d = this.hosts.get(p);
      if (!d || p === host) continue;
      if (!this.started.has(p)) {
        deps.log.warn(`${host}: ${p} deploys in a later batch; its accessories are used as they run now`);
        continue;
      }
      await d.promise.catch((e: unknown) => {
        throw new StepError('accessories', `${host}: the accessories on ${p} did not come up (${(e instanceof Error ? e.message : String(e)).split('\n')[0]}); nothing switched here, the old release keeps serving.`);
      });
    }
  }
}
