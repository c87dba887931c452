// The seam through which use cases touch the world: process runner, logger, clock, environment.
import type { Runner } from '../docker/runner.ts';
import { ConnectionLostError } from '../errors.ts';

export interface Log {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Start a timed phase; call the returned function when it ends (failed: it threw). */
  step(name: string): (note?: string, failed?: boolean) => number;
  addSecrets(values: string[]): void;
  /** The command's result on stdout (redacted like everything else). */
  output(text: string): void;
}

export interface Deps {
  root: string;
  runner: Runner;
  log: Log;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  /** git commit of `dir` (default: the project root), if any. */
  gitCommit: (dir?: string) => Promise<string | undefined>;
  /** Run a hook or secret command on the operator machine. */
  /** Run a shell command on the operator machine (hooks, secret commands); cwd defaults to the project root. */
  shell: (command: string, env: Record<string, string>, cwd?: string) => Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

export interface PhaseGuard {
  /** Is the host still reachable? Asked only after a phase failed. */
  reachable: () => Promise<boolean>;
  /** What state the host is in when `phase` failed (old release serving, new release live…). */
  leftState: (phase: string) => string;
}

/**
 * Timed phases of one host's deploy or rollback: each is logged and its duration kept. A phase
 * that throws is logged as failed, never as done. With a guard, a failure while the host does not
 * answer is reported as what it is: a lost connection, naming host, phase and the state left.
 */
export function phases(log: Log, host: string, guard?: PhaseGuard) {
  const timings: Record<string, number> = {};
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const end = log.step(`${host}: ${name}`);
    try {
      const out = await fn();
      timings[name] = end();
      return out;
    } catch (err) {
      timings[name] = end(undefined, true);
      if (guard && !(err instanceof ConnectionLostError) && !(await guard.reachable().catch(() => false))) {
        throw new ConnectionLostError(host, name, guard.leftState(name), err);
      }
      throw err;
    }
  };
  return { timings, phase };
}
