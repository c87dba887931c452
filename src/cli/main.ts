// The one top-level handler: run a command, print `ERROR (Class): message` on failure (stack only
// with --verbose), exit non-zero: 2 for a bad flag or argument (UsageError), else 1. Every message
// passes through the logger's secret redaction. Errors that escape the command's promise
// (a stray rejection, an exception in a callback) get the same one-line treatment.
import { formatError, UsageError } from '../errors.ts';
import { redact } from '../log/redact.ts';

export interface MainOptions {
  verbose?: boolean;
  secrets?: () => string[];
}

let installed = false;

export async function main(fn: () => Promise<number | void>, opts: MainOptions = {}): Promise<never> {
  const fail = (err: unknown): never => {
    const verbose = opts.verbose ?? (process.argv.includes('--verbose') || process.argv.includes('-v'));
    const text = formatError(err, verbose);
    let secrets: string[] = [];
    try {
      secrets = opts.secrets?.() ?? [];
    } catch {
      secrets = [];
    }
    process.stderr.write(redact(text, secrets) + '\n');
    process.exit(err instanceof UsageError ? 2 : 1);
  };
  if (!installed) {
    installed = true;
    process.on('uncaughtException', fail);
    process.on('unhandledRejection', fail);
  }
  try {
    const code = (await fn()) ?? 0;
    process.exit(code);
  } catch (err) {
    return fail(err);
  }
}
