// `npm run plan -- [<app>...] [--release <id>] [--json] [--check] [--verbose]`
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { plan } from '../app/plan.ts';
import { createLogger } from '../log/logger.ts';
import { main, type MainOptions } from './main.ts';
import { parseFlags, releaseFlag } from './args.ts';

export const PLAN_USAGE = `usage: npm run plan -- [<app>...] [--release <id>] [--json] [--check] [--verbose]
  Validate the config, render compose/ (all apps when none is named) and show what a deploy would change.
  --release <id>  release id / image tag (default: the tag in app.yml, else git rev-parse --short HEAD, else "latest")
  --json          print the plan as JSON
  --check         do not write compose/; exit 2 when it differs from the render (CI)
  --verbose       stack traces on errors`;

export async function gitShortHead(root: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('git', ['rev-parse', '--short', 'HEAD'], { cwd: root });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

export function planCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<never> {
  const log = createLogger({ verbose: argv.includes('--verbose') || argv.includes('-v') });
  const run: MainOptions = { secrets: () => log.secrets() };
  return main(async () => {
    const { values, positionals } = parseFlags(
      argv,
      {
        release: { type: 'string' },
        json: { type: 'boolean' },
        check: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
      PLAN_USAGE,
    );
    run.verbose = !!values.verbose;
    if (values.help) {
      log.output(PLAN_USAGE);
      return 0;
    }
    const release = releaseFlag('--release', values.release, PLAN_USAGE);
    const root = env.BERTH_ROOT ?? process.cwd();
    const { report } = await plan(
      { root, env, gitCommit: (dir) => gitShortHead(dir ?? root), log },
      { apps: positionals, release, json: values.json, check: values.check },
    );
    return values.check && report.changed ? 2 : 0;
  }, run);
}
