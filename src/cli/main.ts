// The one top-level handler: run a command, print `ERROR (Class): message` on failure (stack only
// with --verbose), exit non-zero: 2 for a bad flag or argument or a name that does not exist
// (UsageError, UnknownNameError), else 1. A command returns 3 itself for red or drift. Every message
// passes through the logger's secret redaction. Errors that escape the command's promise
// (a stray rejection, an exception in a callback) get the same one-line treatment.
import { exitCodeOf, formatError } from '../errors.ts';
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
    process.exit(exitCodeOf(err));
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
