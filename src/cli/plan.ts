// Handler of `plan [<app>…] [--release <id>] [--json] [--check] [--remote] [--verbose]`.
import { plan } from '../app/plan.ts';
import { createLogger } from '../log/logger.ts';
import { formatRemote, planRemote } from '../app/plan-remote.ts';
import { EXIT } from '../errors.ts';
import { createDeps } from './deps.ts';
import { releaseFlag } from './args.ts';
import { projectRoot } from './root.ts';
import type { CommandArgs } from './spec.ts';

export { gitShortHead } from './git.ts';

/** Exit 3 with --check when compose/ differs from the render (drift), as status does when red. */
export async function planCli({ values, positionals, usage, main }: CommandArgs<{ release?: string; check?: boolean; remote?: boolean }>, env: NodeJS.ProcessEnv = process.env) {
  const log = createLogger({ verbose: !!values.verbose });
  main.secrets = () => log.secrets();
  const release = releaseFlag('--release', values.release, usage);
  const root = projectRoot(env);
  const { report, renders } = await plan({ root, env, log }, { apps: positionals, release, json: values.json, check: values.check });
  if (values.remote) {
    const deps = { ...createDeps({ verbose: values.verbose }), log };
    const diffs = await planRemote(deps, renders);
    log.output(values.json ? JSON.stringify({ remote: diffs }, null, 2) : formatRemote(diffs));
  }
  return values.check && report.changed ? EXIT.red : EXIT.ok;
}
