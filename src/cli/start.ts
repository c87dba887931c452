// Handlers of `start <app>` and `restart <app>` (Kamal's `app boot`; flags, help and examples:
// src/cli/table.ts): the live release back up where it was stopped (src/app/start.ts).
import { start } from '../app/start.ts';
import { createDeps } from './deps.ts';
import type { CommandArgs } from './spec.ts';
import { hostFilterOf, targetApp } from './targeting.ts';

type Targeting = { hosts?: string; roles?: string; destination?: string };

export async function startCli({ values, positionals, usage, main }: CommandArgs<Targeting>, restart = false) {
  const only = hostFilterOf(values, usage);
  const deps = createDeps(values);
  const app = targetApp(deps.root, positionals[0]!, values.destination, usage);
  // The release's secret values are read back from the host: errors are redacted with them.
  main.secrets = () => deps.log.secrets();
  const out = await start(deps, { app, restart, only });
  if (values.json) deps.log.output(JSON.stringify(out, null, 2));
  else for (const o of out) deps.log.output(`${o.host}: ${app} ${o.release} (${o.colour}): ${o.started.length ? `${restart ? 'restarted' : 'started'} ${o.started.join(', ')}` : 'already running'}`);
}

export const restartCli = (a: CommandArgs<Targeting>) => startCli(a, true);
