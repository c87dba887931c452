// Handlers of the commands Kamal users reach for: version, config, lock, remove, details
// (flags, help and examples: src/cli/table.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { showConfig } from '../app/config-show.ts';
import { details, edgeLogs, formatDetails } from '../app/details.ts';
import { formatLocks, lockRelease, lockStatus } from '../app/lock-admin.ts';
import { remove, removeConfirmation } from '../app/remove.ts';
import { StepError, UsageError } from '../errors.ts';
import { REPO_ROOT } from '../sandbox/paths.ts';
import { intFlag } from './args.ts';
import { createDeps } from './deps.ts';
import type { CommandArgs } from './spec.ts';
import { hostFilterOf, targetApp } from './targeting.ts';

interface Targeting {
  hosts?: string;
  roles?: string;
  destination?: string;
}

export async function versionCli({ values }: CommandArgs) {
  const deps = createDeps(values);
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  deps.log.output(values.json ? JSON.stringify({ berth: pkg.version, node: process.versions.node }) : `berth ${pkg.version} (node ${process.versions.node})`);
}

export async function configCli({ values, positionals, usage }: CommandArgs<Targeting>) {
  const deps = createDeps(values);
  const app = targetApp(deps.root, positionals[0]!, values.destination, usage);
  deps.log.output(await showConfig(deps.root, deps.env, { app, json: values.json, only: hostFilterOf(values, usage) }));
}

export async function lockCli({ values, positionals, usage }: CommandArgs<Targeting>) {
  const [verb, name] = positionals as [string, string];
  if (verb !== 'status' && verb !== 'release') throw new UsageError(`unknown lock command ${JSON.stringify(verb)} (status or release)`, usage);
  const deps = createDeps(values);
  const app = targetApp(deps.root, name, values.destination, usage);
  const only = hostFilterOf(values, usage);
  const rows = verb === 'status' ? await lockStatus(deps, { app, only }) : await lockRelease(deps, { app, only });
  deps.log.output(values.json ? JSON.stringify(rows, null, 2) : formatLocks(rows, verb));
}

/** Asks for the app name on a terminal; without one, only with --yes (else a usage error: nothing ran). */
export async function removeCli({ values, positionals, usage, main }: CommandArgs<{ volumes?: boolean; yes?: boolean } & Targeting>) {
  const deps = createDeps(values);
  main.secrets = () => deps.log.secrets();
  const app = targetApp(deps.root, positionals[0]!, values.destination, usage);
  const only = hostFilterOf(values, usage);
  const tty = !!process.stdin.isTTY && !!process.stdout.isTTY;
  let typed: string | undefined;
  if (!values.yes && tty) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    typed = await rl.question(`This removes ${app}${values.volumes ? ' AND ITS VOLUMES (data)' : ''} from its hosts. Type the app name to confirm: `);
    rl.close();
  }
  const ok = removeConfirmation({ yes: values.yes, tty, typed, app });
  if (!ok.ok) throw tty ? new StepError('remove', ok.reason) : new UsageError(`remove: ${ok.reason}`, '');
  const out = await remove(deps, { app, volumes: values.volumes, only });
  for (const o of out) deps.log.info(`${o.host}: removed ${app}${o.volumes ? ' and its volumes' : ' (volumes kept: --volumes deletes them)'}; pg_dump files, if any, stay in ${o.keptBackups}`);
}

/** Exit 1 when a host's edge cannot be read. */
export async function detailsCli({ values, positionals, usage }: CommandArgs<{ logs?: boolean; tail?: string; follow?: boolean; 'no-certs'?: boolean }>) {
  const deps = createDeps(values);
  if (values.logs) return (await edgeLogs(deps, { host: positionals[0], tail: intFlag('--tail', values.tail, usage), follow: values.follow })).exitCode;
  const rows = await details(deps, { host: positionals[0], certs: !values['no-certs'] });
  deps.log.output(values.json ? JSON.stringify(rows, null, 2) : formatDetails(rows));
  return rows.every((r) => r.reachable) ? 0 : 1;
}
