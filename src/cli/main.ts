// The one top-level handler: run a command, print `ERROR (Class): message` on failure (stack only
// with --verbose), exit non-zero. Every message passes through the logger's secret redaction.
import { formatError } from '../errors.ts';
import { redact } from '../log/redact.ts';

export async function main(fn: () => Promise<number | void>, opts: { verbose?: boolean; secrets?: () => string[] } = {}): Promise<never> {
  try {
    const code = (await fn()) ?? 0;
    process.exit(code);
  } catch (err) {
    const text = formatError(err, opts.verbose ?? process.argv.includes('--verbose'));
    process.stderr.write(redact(text, opts.secrets?.() ?? []) + '\n');
    process.exit(1);
  }
}
