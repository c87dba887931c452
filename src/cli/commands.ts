// CLI front ends for the use cases: parse flags (strict), build dependencies, call, print.
import { parseArgs } from 'node:util';
import { deploy } from '../app/deploy.ts';
import { exec, formatStatus, logs, resolveAlias, status, statusRed } from '../app/ops.ts';
import { rollback } from '../app/rollback.ts';
import { setup } from '../app/setup.ts';
import { findApp } from '../app/app-context.ts';
import { loadProject } from '../config/load.ts';
import { StepError } from '../errors.ts';
import { createDeps } from './deps.ts';
import { main } from './main.ts';
import { common, needApp, usage } from './args.ts';

export function deployCli(argv: string[]) {
  const U = 'usage: npm run deploy -- <app> [--release <tag>] [--verbose] [--json]';
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...common, release: { type: 'string' } } });
  usage(U, values);
  const deps = createDeps(values);
  return main(async () => {
    const out = await deploy(deps, { app: needApp(positionals, U), release: values.release });
    if (values.json) deps.log.output(JSON.stringify(out, null, 2));
    else for (const o of out) deps.log.info(`${o.host}: ${o.result} ${o.release} (${o.colour}) — ${formatTimings(o.timings)}`);
  }, { verbose: values.verbose, secrets: () => deps.log.secrets() });
}

export function rollbackCli(argv: string[]) {
  const U = 'usage: npm run rollback -- <app> [--to <release>]';
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...common, to: { type: 'string' } } });
  usage(U, values);
  const deps = createDeps(values);
  return main(async () => {
    const out = await rollback(deps, { app: needApp(positionals, U), to: values.to });
    if (values.json) deps.log.output(JSON.stringify(out, null, 2));
    else for (const o of out) deps.log.info(`${o.host}: rolled back to ${o.release} (${o.colour}) — ${formatTimings(o.timings)}`);
  }, { verbose: values.verbose, secrets: () => deps.log.secrets() });
}

export function setupCli(argv: string[]) {
  const U = 'usage: npm run setup -- [<host>] [--harden]   (all hosts in hosts.json when omitted; --harden applies UFW, fail2ban, key-only SSH)';
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...common, harden: { type: 'boolean' } } });
  usage(U, values);
  const deps = createDeps(values);
  return main(async () => {
    const hosts = await setup(deps, { host: positionals[0], harden: values.harden });
    deps.log.info(`edge up on ${hosts.join(', ')}`);
  }, { verbose: values.verbose, secrets: () => deps.log.secrets() });
}

export function statusCli(argv: string[]) {
  const U = 'usage: npm run status -- [<app>] [--json]';
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: common });
  usage(U, values);
  const deps = createDeps(values);
  return main(async () => {
    const rows = await status(deps, { app: positionals[0] });
    deps.log.output(values.json ? JSON.stringify(rows, null, 2) : formatStatus(rows));
    return rows.some(statusRed) ? 1 : 0;
  }, { verbose: values.verbose });
}

export function logsCli(argv: string[]) {
  const U = 'usage: npm run logs -- <app> [--follow] [--tail N] [--service NAME]';
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { ...common, follow: { type: 'boolean', short: 'f' }, tail: { type: 'string' }, service: { type: 'string' } },
  });
  usage(U, values);
  const deps = createDeps(values);
  return main(async () => {
    await logs(deps, { app: needApp(positionals, U), follow: values.follow, tail: values.tail ? Number(values.tail) : undefined, service: values.service });
  }, { verbose: values.verbose });
}

export function execCli(argv: string[]) {
  const U = 'usage: npm run exec -- [--interactive] [--verbose] <app> <command…>';
  // Flags come before <app>; everything after it is the command, verbatim (it has flags of its own).
  const at = argv.findIndex((a) => !a.startsWith('-'));
  const flags = at < 0 ? argv : argv.slice(0, at);
  const { values } = parseArgs({ args: flags, strict: true, options: { ...common, interactive: { type: 'boolean', short: 'i' } } });
  usage(U, values);
  const deps = createDeps(values);
  return main(async () => {
    const [app, ...command] = at < 0 ? [] : argv.slice(at);
    if (!app || !command.length) throw new StepError('usage', U);
    const r = await exec(deps, { app, command, interactive: !!values.interactive || !!process.stdin.isTTY });
    return r.exitCode;
  }, { verbose: values.verbose, secrets: () => deps.log.secrets() });
}

/** `npm run console -- <app>` and friends: the aliases from app config. */
export function aliasCli(alias: string, argv: string[]) {
  const deps = createDeps({ verbose: argv.includes('--verbose') });
  return main(async () => {
    const [appName, ...extra] = argv.filter((a) => a !== '--verbose');
    if (!appName) throw new StepError('usage', `usage: npm run ${alias} -- <app> [args…]`);
    const app = findApp(await loadProject(deps.root), appName);
    const r = resolveAlias(app, alias, extra);
    if (r.kind === 'exec') return (await exec(deps, { app: appName, command: r.command, interactive: process.stdin.isTTY })).exitCode;
    const [sub, ...rest] = r.argv;
    if (sub === 'logs') return void (await logs(deps, { app: appName, follow: rest.includes('--follow') || rest.includes('-f') }));
    throw new StepError('alias', `alias ${alias} names an unknown Berth command "${sub}" (known: logs)`);
  });
}

const formatTimings = (t: Record<string, number>) =>
  Object.entries(t)
    .map(([k, v]) => `${k} ${(v / 1000).toFixed(2)}s`)
    .join(', ');
