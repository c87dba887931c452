// A deploy or rollback as a list of named steps over one target (a host, or a cluster through its
// first manager). Each step is timed and logged (phases in app/deps.ts); when one fails, the error
// says which step and what is left serving, and a failure while the target does not answer is a
// lost connection (ConnectionLostError) naming the same.
import { type Deps, phases } from '../app/deps.ts';
import { CommandError, ConnectionLostError, HealthError, StepError } from '../errors.ts';

export interface Step<S> {
  name: string;
  /** Skip the step in this run (e.g. no release command). */
  skip?: (s: S) => boolean;
  run: (s: S) => Promise<void>;
  /** What serves when this step fails (joined to the error). */
  leaves: (s: S) => string;
}

export interface StepTarget {
  name: string;
  reachable: () => Promise<boolean>;
}

/** Run the steps in order; returns each step's duration (ms) by name. */
export async function runSteps<S>(deps: Deps, target: StepTarget, steps: readonly Step<S>[], s: S, timings: Record<string, number> = {}): Promise<Record<string, number>> {
  let current: Step<S> | undefined;
  const { timings: t, phase } = phases(deps.log, target.name, { reachable: target.reachable, leftState: () => current?.leaves(s) ?? 'Nothing was changed.' });
  for (const step of steps) {
    if (step.skip?.(s)) continue;
    current = step;
    try {
      await phase(step.name, () => step.run(s));
    } catch (err) {
      if (err instanceof ConnectionLostError || err instanceof HealthError || err instanceof StepError) throw err;
      const why = err instanceof CommandError ? (err.message.split('\n')[0] ?? '') : (err as Error).message;
      throw new StepError(step.name, `${why}\n${step.leaves(s)}`, { host: target.name }, { cause: err });
    }
  }
  return Object.assign(timings, t);
}
