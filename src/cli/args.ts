// Flags every command shares, and small helpers for usage text and the <app> argument.
import { StepError } from '../errors.ts';

export const common = {
  verbose: { type: 'boolean', short: 'v' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function usage(text: string, args: { help?: boolean }) {
  if (args.help) {
    process.stdout.write(text + '\n');
    process.exit(0);
  }
}

export function needApp(positionals: string[], usageText: string): string {
  const app = positionals[0];
  if (!app) throw new StepError('usage', `missing <app>\n${usageText}`);
  return app;
}
