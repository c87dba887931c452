// `npm run plan -- [<app>...] [--release <id>] [--json] [--check] [--verbose]`
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { plan } from '../app/plan.ts';
import { createLogger } from '../log/logger.ts';
import { formatRemote, planRemote } from '../app/plan-remote.ts';
import { createDeps } from './deps.ts';
import { main, type MainOptions } from './main.ts';
import { parseFlags, releaseFlag } from './args.ts';

export const PLAN_USAGE = `usage: npm run plan -- [<app>...] [--release <id>] [--json] [--check] [--verbose]
  Validate the config, render compose/ (all apps when none is named) and show what a deploy would change.
  --release <id>  release id / image tag (default: the tag in app.yml, else "build-context" for a built image
                  (deploy uses the build context's commit), else "latest")
  --json          print the plan as JSON
  --check         do not write compose/; exit 2 when it differs from the render (CI)
  --remote        also compare with the release live on each host (reads only): release command,
                  env keys, secrets, volumes, domains and routes that a deploy changes
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
        remote: { type: 'boolean' },
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
    const { report, renders } = await plan(
      { root, env, log },
      { apps: positionals, release, json: values.json, check: values.check },
    );
    if (values.remote) {
      const deps = { ...createDeps({ verbose: run.verbose }), log };
      const diffs = await planRemote(deps, renders);
      log.output(values.json ? JSON.stringify({ remote: diffs }, null, 2) : formatRemote(diffs));
    }
    return values.check && report.changed ? 2 : 0;
  }, run);
}
