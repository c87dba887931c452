// `npm run prune -- [<app>]` and `npm run history -- <app> [--json]`.
import { history } from '../app/history.ts';
import { prune } from '../app/prune.ts';
import { formatHistory } from '../exec/history.ts';
import { common, needApp } from './args.ts';
import { cliCommand } from './command.ts';

export function pruneCli(argv: string[]) {
  const U = 'usage: npm run prune -- [<app>] [--json] [--verbose]   (every app when omitted; keeps deploy.keep_releases, the live and the previous release)';
  return cliCommand(argv, U, common, { max: 1 }, async ({ values, positionals }, deps) => {
    const out = await prune(deps, { app: positionals[0] });
    if (values.json) deps.log.output(JSON.stringify(out, null, 2));
    else for (const o of out) deps.log.output(`${o.host}: ${o.app}: kept ${o.kept.length} (${o.kept.join(', ') || 'none'}), pruned ${o.pruned.length}${o.pruned.length ? ` (${o.pruned.join(', ')})` : ''}${o.imagesRemoved.length ? `, removed images ${o.imagesRemoved.join(', ')}` : ''}`);
  });
}

export function historyCli(argv: string[]) {
  const U = 'usage: npm run history -- <app> [--json] [--verbose]   (deploys, rollbacks and restores recorded on each host)';
  return cliCommand(argv, U, common, { max: 1 }, async ({ values, positionals }, deps) => {
    const out = await history(deps, { app: needApp(positionals, U) });
    deps.log.output(values.json ? JSON.stringify(out, null, 2) : out.map((h) => formatHistory(h.host, h.entries)).join('\n'));
  });
}
