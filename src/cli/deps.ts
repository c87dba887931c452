// Builds the real dependencies for a CLI run: the process runner, the logger, clock and env.
import { $ } from 'zx/core';
import type { Deps } from '../app/deps.ts';
import type { Cmd } from '../docker/command.ts';
import { createRunner } from '../docker/runner.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { gitShortHead } from './git.ts';
import { projectRoot } from './root.ts';

export interface CliFlags {
  verbose?: boolean;
  json?: boolean;
  dryRun?: boolean;
}

/** A mutating command as --dry-run prints it: the host-side script's first line, not the whole script. */
export function describeCmd(line: string, cmd: Cmd): string {
  const i = cmd.argv.indexOf('--');
  if (cmd.argv[0] === 'ssh' && i > 0) {
    const remote = cmd.argv[i + 1] ?? '';
    const target = cmd.argv[i - 1];
    const script = remote.replace(/^sh -c '/, '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !/^set -e/.test(l))[0] ?? '';
    return `ssh ${target}: ${script.slice(0, 120)}${cmd.input ? ' (with data on stdin)' : ''}`;
  }
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

export function createDeps(flags: CliFlags = {}): Deps & { log: Logger } {
  const root = projectRoot();
  const log = createLogger({ verbose: !!flags.verbose, json: !!flags.json });
  const runner = createRunner({
    dryRun: flags.dryRun,
    onCommand: (line) => log.command(line),
    onDryRun: (line, cmd) => log.info(`  would run: ${describeCmd(line, cmd)}`),
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
