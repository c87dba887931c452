// CLI front ends of the commands Kamal users reach for: version, config, lock, remove, details.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { showConfig } from '../app/config-show.ts';
import { details, edgeLogs, formatDetails } from '../app/details.ts';
import { formatLocks, lockRelease, lockStatus } from '../app/lock-admin.ts';
import { remove, removeConfirmation } from '../app/remove.ts';
import { StepError, UsageError } from '../errors.ts';
import { REPO_ROOT } from '../sandbox/paths.ts';
import { common, intFlag, needApp, parseFlags, usage } from './args.ts';
import { createDeps } from './deps.ts';
import { main, type MainOptions } from './main.ts';
import { cliCommand } from './command.ts';
import { hostFilterOf, TARGET_USAGE, targetApp, targetOptions } from './targeting.ts';

export function versionCli(argv: string[]) {
  const U = 'usage: npm run version [--json]   (Berth and Node versions)';
  return main(async () => {
    const { values } = parseFlags(argv, common, U, { max: 0 });
    usage(U, values);
    const deps = createDeps(values);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    deps.log.output(values.json ? JSON.stringify({ berth: pkg.version, node: process.versions.node }) : `berth ${pkg.version} (node ${process.versions.node})`);
  });
}

export function configCli(argv: string[]) {
  const U = `usage: npm run config -- <app> ${TARGET_USAGE} [--json]   (the resolved config with defaults; secret values never printed)`;
  return cliCommand(argv, U, { ...common, ...targetOptions }, { max: 1 }, async ({ values, positionals }, deps) => {
    const app = targetApp(deps.root, needApp(positionals, U), values.destination);
    deps.log.output(await showConfig(deps.root, deps.env, { app, json: values.json, only: hostFilterOf(values) }));
  });
}

export function lockCli(argv: string[]) {
  const U = `usage: npm run lock -- status|release <app> ${TARGET_USAGE} [--json]`;
  return cliCommand(argv, U, { ...common, ...targetOptions }, { max: 2 }, async ({ values, positionals }, deps) => {
    const [verb, name] = positionals;
    if (verb !== 'status' && verb !== 'release') throw new UsageError(verb ? `unknown lock command ${JSON.stringify(verb)}` : 'missing status|release', U);
    if (!name) throw new UsageError('missing <app>', U);
    const app = targetApp(deps.root, name, values.destination);
    const rows = verb === 'status' ? await lockStatus(deps, { app, only: hostFilterOf(values) }) : await lockRelease(deps, { app, only: hostFilterOf(values) });
    deps.log.output(values.json ? JSON.stringify(rows, null, 2) : formatLocks(rows, verb));
  });
}

export function removeCli(argv: string[]) {
  const U = `usage: npm run remove -- <app> [--volumes] [--yes] ${TARGET_USAGE}
  Stops and removes the app's containers, networks and Traefik routes on its hosts, then its host state
  and secrets; --volumes also deletes its volumes (its data). Asks for the app name unless --yes.`;
  const run: MainOptions = {};
  return main(async () => {
    const { values, positionals } = parseFlags(argv, { ...common, ...targetOptions, volumes: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' } }, U, { max: 1 });
    usage(U, values);
    const deps = createDeps(values);
    Object.assign(run, { verbose: values.verbose, secrets: () => deps.log.secrets() });
    const app = targetApp(deps.root, needApp(positionals, U), values.destination);
    const only = hostFilterOf(values);
    const tty = !!process.stdin.isTTY && !!process.stdout.isTTY;
    let typed: string | undefined;
    if (!values.yes && tty) {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      typed = await rl.question(`This removes ${app}${values.volumes ? ' AND ITS VOLUMES (data)' : ''} from its hosts. Type the app name to confirm: `);
      rl.close();
    }
    const ok = removeConfirmation({ yes: values.yes, tty, typed, app });
    if (!ok.ok) throw new StepError('remove', ok.reason);
    const out = await remove(deps, { app, volumes: values.volumes, only });
    for (const o of out) deps.log.info(`${o.host}: removed ${app}${o.volumes ? ' and its volumes' : ' (volumes kept: --volumes deletes them)'}; pg_dump files, if any, stay in ${o.keptBackups}`);
  }, run);
}

export function detailsCli(argv: string[]) {
  const U = 'usage: npm run details -- [<host>] [--json] [--no-certs] | --logs [<host>] [--tail N] [--follow]   (the edge as Traefik reports it)';
  const flags = { ...common, logs: { type: 'boolean' }, tail: { type: 'string' }, follow: { type: 'boolean', short: 'f' }, 'no-certs': { type: 'boolean' } } as const;
  return cliCommand(argv, U, flags, { max: 1 }, async ({ values, positionals }, deps) => {
    if (values.logs) return void (await edgeLogs(deps, { host: positionals[0], tail: intFlag('--tail', values.tail, U), follow: values.follow }));
    const rows = await details(deps, { host: positionals[0], certs: !values['no-certs'] });
    deps.log.output(values.json ? JSON.stringify(rows, null, 2) : formatDetails(rows));
    return rows.every((r) => r.reachable) ? 0 : 1;
  });
}
