// Bench scenarios one after another, surviving each other's failures: a scenario that throws, or
// whose stray socket/stream error or rejected promise surfaces later, is reported against that
// scenario and the bench goes on; after every scenario the caller writes partial results.

export interface Step {
  name: string;
  run: () => Promise<void>;
}

export interface StepHooks {
  log(msg: string): void;
  /** After each step (failed or not): write partial results. */
  after(name: string, errors: readonly string[]): void;
}

export async function runSteps(steps: Step[], hooks: StepHooks): Promise<string[]> {
  const errors: string[] = [];
  let current = 'bench';
  const stray = (e: unknown) => {
    const msg = `${current}: ${e instanceof Error ? e.message : String(e)} (outside the scenario's own flow)`;
    errors.push(msg);
    hooks.log(`${current} ERROR ${msg}`);
  };
  process.on('uncaughtException', stray);
  process.on('unhandledRejection', stray);
  try {
    for (const s of steps) {
      current = s.name;
      const t0 = performance.now();
      hooks.log(`── ${s.name}`);
      try {
        await s.run();
      } catch (e) {
        errors.push(`${s.name}: ${(e as Error)?.message ?? String(e)}`);
        hooks.log(`${s.name} FAILED: ${(e as Error)?.message ?? String(e)}`);
      }
      hooks.log(`── ${s.name} done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      try {
        hooks.after(s.name, errors);
      } catch (e) {
        hooks.log(`could not write partial results: ${(e as Error).message}`);
      }
    }
  } finally {
    process.off('uncaughtException', stray);
    process.off('unhandledRejection', stray);
  }
  return errors;
}
