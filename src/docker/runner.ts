// The one seam that spawns processes. Everything else builds `Cmd`s and hands them here, so
// --dry-run, --verbose and error reporting live in one place.
import { Readable } from 'node:stream';
import { $ } from 'zx/core';
import { CommandError } from '../errors.ts';
import { type Cmd, formatCmd } from './command.ts';

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** --dry-run: this mutating command was printed, not run (its output is empty). */
  dryRun?: boolean;
}

export interface RunOptions {
  /** Do not throw on a non-zero exit; the caller inspects exitCode. */
  allowFailure?: boolean;
  /** Stream stdin from here instead of cmd.input (tar upload). */
  stdinStream?: Readable;
  /** Inherit the terminal (interactive exec, follow logs). */
  interactive?: boolean;
  timeoutMs?: number;
}

export interface Runner {
  run(cmd: Cmd, opts?: RunOptions): Promise<RunResult>;
  /** Number of processes spawned so far (the benchmark reads it). */
  readonly count: number;
  /** --dry-run: reads run, mutating commands are printed instead (see onDryRun). */
  readonly dryRun: boolean;
}

export interface RunnerOptions {
  dryRun?: boolean;
  /** Called with each command before it runs (verbose logging). */
  onCommand?: (line: string, cmd: Cmd) => void;
  /** Called with each mutating command --dry-run does not run (what would happen). */
  onDryRun?: (line: string, cmd: Cmd) => void;
}

export function createRunner(options: RunnerOptions = {}): Runner {
  let count = 0;
  return {
    get count() {
      return count;
    },
    dryRun: !!options.dryRun,
    async run(cmd, opts = {}) {
      options.onCommand?.(formatCmd(cmd), cmd);
      if (options.dryRun && cmd.mutates) {
        options.onDryRun?.(formatCmd(cmd), cmd);
        // Nobody reads the upload: close it now, before its source files are cleaned up under it.
        opts.stdinStream?.on('error', () => {}).destroy();
        return { stdout: '', stderr: '', exitCode: 0, dryRun: true };
      }
      count++;
      const env = { ...process.env, ...cmd.env };
      if (opts.interactive) {
        const p = $({ env, stdio: 'inherit', nothrow: true, quiet: true, verbose: false })`${cmd.argv}`;
        const out = await p;
        const exitCode = out.exitCode ?? 1;
        if (exitCode !== 0 && !opts.allowFailure) throw new CommandError(cmd.argv, exitCode, '', cmd.host);
        return { stdout: '', stderr: '', exitCode };
      }
      const p = $({
        env,
        nothrow: true,
        quiet: true,
        verbose: false,
        timeout: opts.timeoutMs,
      })`${cmd.argv}`;
      // A child that exits before reading its stdin (ssh losing its connection) makes the write
      // fail with EPIPE: the exit code reports the failure, the stream error must not crash Berth.
      p.stdin.on('error', () => {});
      if (opts.stdinStream) {
        opts.stdinStream.on('error', () => p.stdin.destroy());
        opts.stdinStream.pipe(p.stdin);
      } else p.stdin.end(cmd.input ?? '');
      const out = await p;
      const result = { stdout: out.stdout, stderr: out.stderr, exitCode: out.exitCode ?? 1 };
      if (result.exitCode !== 0 && !opts.allowFailure) {
        throw new CommandError(cmd.argv, result.exitCode, result.stderr || result.stdout, cmd.host);
      }
      return result;
    },
  };
}
