// The seam through which use cases touch the world: process runner, logger, clock, environment.
import type { Runner } from '../docker/runner.ts';

export interface Log {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Start a timed phase; call the returned function when it ends. */
  step(name: string): (note?: string) => number;
  addSecrets(values: string[]): void;
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

/** Timed phases of one host's deploy or rollback: each is logged and its duration kept. */
export function phases(log: Log, host: string) {
  const timings: Record<string, number> = {};
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const end = log.step(`${host}: ${name}`);
    try {
      return await fn();
    } finally {
      timings[name] = end();
    }
  };
  return { timings, phase };
}
