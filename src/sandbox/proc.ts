// Process helper for the sandbox provisioner and test helpers (not Berth's runtime seam).
import { spawn } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Stream output to our stdout/stderr as well as capturing it. */
  echo?: boolean;
  /** Do not throw on a non-zero exit code. */
  allowFail?: boolean;
  timeoutMs?: number;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`command failed (exit ${code}): ${argv.join(' ')}\n${stderr.trim().split('\n').slice(-20).join('\n')}`);
    this.name = 'CommandError';
  }
}

export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (opts.echo) process.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (opts.echo) process.stderr.write(d);
    });
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const c = code ?? (signal ? 128 : 1);
      if (c !== 0 && !opts.allowFail) reject(new CommandError(argv, c, stderr));
      else resolve({ stdout, stderr, code: c });
    });
    // EPIPE when the child exits without reading stdin: its exit code tells what happened.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export async function ok(argv: readonly string[], opts: RunOptions = {}): Promise<boolean> {
  return (await run(argv, { ...opts, allowFail: true })).code === 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Log a step with its duration. */
export async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    const r = await fn();
    console.log(`[sandbox] ${name}: ok (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
    return r;
  } catch (e) {
    console.log(`[sandbox] ${name}: FAILED (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
    throw e;
  }
}
