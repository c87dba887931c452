// Handlers of `prune [<app>]` and `history <app>` (flags, help and examples: src/cli/table.ts).
import { history } from '../app/history.ts';
import { prune } from '../app/prune.ts';
import { formatHistory } from '../exec/history.ts';
import { createDeps } from './deps.ts';
import type { CommandArgs } from './spec.ts';

export async function pruneCli({ values, positionals }: CommandArgs) {
  const deps = createDeps(values);
  const out = await prune(deps, { app: positionals[0] });
  if (values.json) deps.log.output(JSON.stringify(out, null, 2));
  else for (const o of out) deps.log.output(`${o.host}: ${o.app}: kept ${o.kept.length} (${o.kept.join(', ') || 'none'}), pruned ${o.pruned.length}${o.pruned.length ? ` (${o.pruned.join(', ')})` : ''}${o.imagesRemoved.length ? `, removed images ${o.imagesRemoved.join(', ')}` : ''}`);
}

export async function historyCli({ values, positionals }: CommandArgs) {
  const deps = createDeps(values);
  const out = await history(deps, { app: positionals[0]! });
  deps.log.output(values.json ? JSON.stringify(out, null, 2) : out.map((h) => formatHistory(h.host, h.entries)).join('\n'));
}
