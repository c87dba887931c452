// Builds the real dependencies for a CLI run: the process runner, the logger, clock and env.
import { $ } from 'zx';
import type { Deps } from '../app/deps.ts';
import { createRunner } from '../docker/runner.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { gitShortHead } from './plan.ts';

export interface CliFlags {
  verbose?: boolean;
  json?: boolean;
  dryRun?: boolean;
}

export function createDeps(flags: CliFlags = {}): Deps & { log: Logger } {
  const root = process.env.BERTH_ROOT ?? process.cwd();
  const log = createLogger({ verbose: !!flags.verbose, json: !!flags.json });
  const runner = createRunner({
    dryRun: flags.dryRun,
    onCommand: (line) => log.command(line),
  });
  return {
    root,
    runner,
    log,
    env: process.env,
    now: () => new Date(),
    // The same short commit `npm run plan` uses, so plan and deploy render identical files.
    gitCommit: (dir) => gitShortHead(dir ?? root),
    shell: async (command, env, cwd = root) => {
      const r = await $({ cwd, nothrow: true, quiet: true, env: { ...process.env, ...env } })`sh -c ${command}`;
      return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
    },
  };
}
