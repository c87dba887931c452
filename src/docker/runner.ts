// The one seam that spawns processes. Everything else builds `Cmd`s and hands them here, so
// --dry-run, --verbose and error reporting live in one place.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import { Readable, type Writable } from 'node:stream';
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
  /** Stream stdout into here instead of collecting it (docker save of a whole image); stdout comes back empty. */
  stdoutStream?: Writable;
  /**
   * Stream the output line by line instead of collecting it (logs --follow on several hosts, --grep):
   * the result's stdout and stderr stay empty, so a stream that runs for days holds no memory.
   */
  onLine?: (line: string, from: 'stdout' | 'stderr') => void;
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
      if (opts.onLine) return streamLines(cmd, env, opts);
      if (opts.interactive) {
        const p = $({ env, stdio: 'inherit', nothrow: true, quiet: true, verbose: false })`${cmd.argv}`;
        const out = await p;
        const exitCode = out.exitCode ?? 1;
        if (exitCode !== 0 && !opts.allowFailure) throw new CommandError(cmd.argv, exitCode, '', cmd.host);
        return { stdout: '', stderr: '', exitCode };
      }
      if (opts.stdoutStream) return runStreaming(cmd, env, opts.stdoutStream, !!opts.allowFailure);
      const result = await collect(cmd, env, opts);
      if (result.exitCode !== 0 && !opts.allowFailure) {
        throw new CommandError(cmd.argv, result.exitCode, result.stderr || result.stdout, cmd.host);
      }
      return result;
    },
  };
}

/**
 * Run a command to its end, its output collected. Spawned directly, not through zx's shell: the
 * argv is already data, and the bash in between cost 4–10 ms per command (measured: an SSH trip
 * through the open master 11 ms spawned, 14–21 ms through zx), a few per deploy or rollback.
 */
function collect(cmd: Cmd, env: NodeJS.ProcessEnv, opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd.argv[0]!, cmd.argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    // A child that exits before reading its stdin (ssh losing its connection) makes the write
    // fail with EPIPE: the exit code reports the failure, the stream error must not crash Berth.
    child.stdin.on('error', () => {});
    if (opts.stdinStream) {
      opts.stdinStream.on('error', () => child.stdin.destroy());
      opts.stdinStream.pipe(child.stdin);
    } else child.stdin.end(cmd.input ?? '');
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
        }, opts.timeoutMs)
      : undefined;
    // A grandchild still holding the pipes must not keep a timed-out command waiting.
    child.on('exit', () => {
      if (timedOut) for (const s of [child.stdout, child.stderr]) s.destroy();
    });
    let spawnError: Error | undefined;
    // A program that is not installed: reported as a shell would (exit 127), not thrown.
    child.on('error', (e) => (spawnError = e));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8') + (spawnError ? `${cmd.argv[0]}: ${spawnError.message}\n` : '');
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr, exitCode: spawnError ? 127 : (code ?? (signal ? 128 + (osSignals[signal] ?? 0) : 1)) });
    });
  });
}

const osSignals = constants.signals as Record<string, number>;

/** A command whose stdout is too big to hold in memory: piped into `to`, stderr kept for the error. */
function runStreaming(cmd: Cmd, env: NodeJS.ProcessEnv, to: Writable, allowFailure: boolean): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.argv[0]!, cmd.argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-64 * 1024)));
    child.stdin.on('error', () => {});
    child.stdin.end(cmd.input ?? '');
    // The consumer failing (a full disk) stops the producer instead of leaving it blocked on a full pipe.
    to.on('error', () => child.kill('SIGTERM'));
    child.stdout.pipe(to);
    child.on('error', reject);
    child.on('close', (code) => {
      const exitCode = code ?? 1;
      if (exitCode !== 0 && !allowFailure) reject(new CommandError(cmd.argv, exitCode, stderr, cmd.host));
      else resolve({ stdout: '', stderr, exitCode });
    });
  });
}

/** Streams running now; Ctrl-C (or SIGTERM) ends them with Berth, as a terminal's Ctrl-C would. */
const streams = new Set<ReturnType<typeof spawn>>();
const stopStreams = (signal: NodeJS.Signals) => {
  for (const c of streams) c.kill('SIGTERM');
  process.exit(signal === 'SIGINT' ? 130 : 143);
};

/** Run a read-only command, handing each output line to opts.onLine as it arrives. */
async function streamLines(cmd: Cmd, env: NodeJS.ProcessEnv, opts: RunOptions): Promise<RunResult> {
  const child = spawn(cmd.argv[0]!, cmd.argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (streams.size === 0) {
    process.on('SIGINT', stopStreams);
    process.on('SIGTERM', stopStreams);
  }
  streams.add(child);
  const lastErr: string[] = [];
  const read = (stream: Readable, from: 'stdout' | 'stderr') =>
    new Promise<void>((done) => {
      const rl = createInterface({ input: stream, crlfDelay: Infinity });
      rl.on('line', (line) => {
        if (from === 'stderr') lastErr.push(line) > 20 && lastErr.shift();
        opts.onLine!(line, from);
      });
      rl.on('close', done);
    });
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs) : undefined;
  const [exitCode] = await Promise.all([exited, read(child.stdout, 'stdout'), read(child.stderr, 'stderr')]);
  if (timer) clearTimeout(timer);
  streams.delete(child);
  if (streams.size === 0) {
    process.off('SIGINT', stopStreams);
    process.off('SIGTERM', stopStreams);
  }
  if (exitCode !== 0 && !opts.allowFailure) throw new CommandError(cmd.argv, exitCode, lastErr.join('\n'), cmd.host);
  return { stdout: '', stderr: '', exitCode };
}
