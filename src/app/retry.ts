// Transient failures (an SSH connection that does not open, a registry pull or push that drops)
// are retried a bounded number of times with backoff, with one log line per retry (p-retry).
import pRetry from 'p-retry';
import { CommandError } from '../errors.ts';
import type { Log } from './deps.ts';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  minTimeoutMs: number;
  /** Which failures are worth another attempt. */
  transient: (error: Error) => boolean;
}

/** ssh exits 255 when the connection itself failed (never the remote command's own code). */
export const sshConnectFailed = (e: Error) => e instanceof CommandError && e.argv[0] === 'ssh' && e.exitCode === 255;
/** A registry transfer failed: any failure of the pull/push command. */
export const anyCommandFailure = (e: Error) => e instanceof CommandError;

export const SSH_CONNECT: RetryPolicy = { retries: 2, minTimeoutMs: 1000, transient: sshConnectFailed };
export const REGISTRY: RetryPolicy = { retries: 2, minTimeoutMs: 1000, transient: anyCommandFailure };

export function retrying<T>(log: Log, what: string, policy: RetryPolicy, fn: () => Promise<T>): Promise<T> {
  return pRetry(fn, {
    retries: policy.retries,
    minTimeout: policy.minTimeoutMs,
    factor: 2,
    randomize: false,
    shouldRetry: ({ error }) => policy.transient(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft > 0 && policy.transient(error)) {
        const reason = (error instanceof CommandError ? error.stderr : error.message).trim().split('\n').pop() ?? '';
        log.warn(`${what}: attempt ${attemptNumber} failed (${reason.slice(0, 200)}); retrying (${retriesLeft} left)`);
      }
    },
  });
}
