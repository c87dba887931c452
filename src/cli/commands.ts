// CLI front ends for the use cases: parse flags (strict), build dependencies, call, print.
import { deploy } from '../app/deploy.ts';
import { exec, formatStatus, logs, resolveAlias, status, statusRed } from '../app/ops.ts';
import { rollback } from '../app/rollback.ts';
import { setup } from '../app/setup.ts';
import { checkHardening } from '../app/harden-check.ts';
import { findApp } from '../app/app-context.ts';
import { loadProject } from '../config/load.ts';
import { StepError, UsageError } from '../errors.ts';
import { createDeps } from './deps.ts';
import { main, type MainOptions } from './main.ts';
import { cliCommand } from './command.ts';
import { common, intFlag, needApp, parseFlags, releaseFlag, usage } from './args.ts';
import { hostFilterOf, TARGET_USAGE, targetApp, targetOptions } from './targeting.ts';

export function deployCli(argv: string[]) {
  const U = `usage: npm run deploy -- <app> [--release <tag>] [--dry-run] ${TARGET_USAGE} [--verbose] [--json]`;
  const run: MainOptions = {};
  return main(async () => {
    const { values, positionals } = parseFlags(argv, { ...common, ...targetOptions, release: { type: 'string' }, 'dry-run': { type: 'boolean' } }, U, { max: 1 });
    usage(U, values);
    const only = hostFilterOf(values);
    const release = releaseFlag('--release', values.release, U);
    const deps = createDeps({ ...values, dryRun: !!values['dry-run'] });
    const app = targetApp(deps.root, needApp(positionals, U), values.destination);
    Object.assign(run, { verbose: values.verbose, secrets: () => deps.log.secrets() });
    const out = await deploy(deps, { app, release, only });
    if (values.json) deps.log.output(JSON.stringify(out, null, 2));
    else for (const o of out) deps.log.info(`${o.host}: ${o.result} ${o.release} (${o.colour}) — ${formatTimings(o.timings)}`);
  }, run);
}

export function rollbackCli(argv: string[]) {
  const U = `usage: npm run rollback -- <app> [--to <release>] ${TARGET_USAGE} [--verbose] [--json]`;
  const run: MainOptions = {};
  return main(async () => {
    const { values, positionals } = parseFlags(argv, { ...common, ...targetOptions, to: { type: 'string' } }, U, { max: 1 });
    usage(U, values);
    const only = hostFilterOf(values);
    // A release id on the host is "<tag>-<config hash>[-<image id>]": the same grammar as a tag.
    const to = releaseFlag('--to', values.to, U, 128 + 11 + 13);
    const deps = createDeps(values);
    const app = targetApp(deps.root, needApp(positionals, U), values.destination);
    Object.assign(run, { verbose: values.verbose, secrets: () => deps.log.secrets() });
    const out = await rollback(deps, { app, to, only });
    if (values.json) deps.log.output(JSON.stringify(out, null, 2));
    else for (const o of out) deps.log.info(`${o.host}: rolled back to ${o.release} (${o.colour}) — ${formatTimings(o.timings)}`);
  }, run);
}

export function setupCli(argv: string[]) {
  const U =
    'usage: npm run setup -- [<host>] [--harden [--check]]   (all hosts in hosts.json when omitted; --harden applies UFW, fail2ban, key-only SSH; ' +
    '--harden --check only reports what differs from it, changes nothing, exits 1 on a difference)';
  const run: MainOptions = {};
  return main(async () => {
    const { values, positionals } = parseFlags(argv, { ...common, harden: { type: 'boolean' }, check: { type: 'boolean' } }, U, { max: 1 });
    usage(U, values);
    const deps = createDeps(values);
    Object.assign(run, { verbose: values.verbose, secrets: () => deps.log.secrets() });
    if (values.check) {
      if (!values.harden) throw new UsageError('--check checks the hardening: use --harden --check', U);
      const checks = await checkHardening(deps, { host: positionals[0] });
      if (values.json) deps.log.output(JSON.stringify(checks, null, 2));
      else for (const c of checks) deps.log.output(c.lines.map((l) => `${c.host}: ${l}`).join('\n'));
      const drifted = checks.filter((c) => !c.ok).map((c) => c.host);
      if (drifted.length) deps.log.error(`hardening drifted on ${drifted.join(', ')}: rerun "npm run setup -- <host> --harden" to restore it`);
      return drifted.length ? 1 : 0;
    }
    const hosts = await setup(deps, { host: positionals[0], harden: values.harden });
    deps.log.info(`edge up on ${hosts.join(', ')}`);
  }, run);
}

export function statusCli(argv: string[]) {
  const U = 'usage: npm run status -- [<app>] [--host <name>] [--json]';
  return cliCommand(argv, U, { ...common, host: { type: 'string' } }, { max: 1 }, async ({ values, positionals }, deps) => {
    const rows = await status(deps, { app: positionals[0], host: values.host });
    deps.log.output(values.json ? JSON.stringify(rows, null, 2) : formatStatus(rows));
    return rows.some(statusRed) ? 1 : 0;
  });
}

export function logsCli(argv: string[]) {
  const U = `usage: npm run logs -- <app> [--host <name>] [--follow] [--tail N] [--service NAME] ${TARGET_USAGE}   (every host of the app unless --host)`;
  const run: MainOptions = {};
  return main(async () => {
    const { values, positionals } = parseFlags(
      argv,
      { ...common, ...targetOptions, follow: { type: 'boolean', short: 'f' }, tail: { type: 'string' }, service: { type: 'string' }, host: { type: 'string' } },
      U,
      { max: 1 },
    );
    usage(U, values);
    const only = hostFilterOf(values);
    const tail = intFlag('--tail', values.tail, U);
    if (values.service !== undefined && !/^[a-z0-9][a-z0-9_.-]*$/.test(values.service)) {
      throw new UsageError(`--service expects a compose service name such as web-blue or worker-jobs, got ${JSON.stringify(values.service)}`, U);
    }
    const deps = createDeps(values);
    const app = targetApp(deps.root, needApp(positionals, U), values.destination);
    run.verbose = values.verbose;
    return logs(deps, { app, follow: values.follow, tail, service: values.service, host: values.host, only });
  }, run);
}

export function execCli(argv: string[]) {
  const U = `usage: npm run exec -- [--interactive] [--host <name>] ${TARGET_USAGE} [--verbose] <app> <command…>   (every host of the app unless --host)`;
  const run: MainOptions = {};
  return main(async () => {
    // Flags come before <app>; everything after it is the command, verbatim (it has flags of its own).
    // A flag's value ("--hosts h1", "-d staging") is not the app.
    const at = firstPositional(argv, ['--host', '--hosts', '--roles', '--destination', '-d']);
    const flags = at < 0 ? argv : argv.slice(0, at);
    const { values } = parseFlags(flags, { ...common, ...targetOptions, interactive: { type: 'boolean', short: 'i' }, host: { type: 'string' } }, U);
    usage(U, values);
    const [name, ...command] = at < 0 ? [] : argv.slice(at);
    if (!name) throw new UsageError('missing <app>', U);
    if (!command.length) throw new UsageError('missing <command…>', U);
    const only = hostFilterOf(values);
    const deps = createDeps(values);
    const app = targetApp(deps.root, name, values.destination);
    Object.assign(run, { verbose: values.verbose, secrets: () => deps.log.secrets() });
    const r = await exec(deps, { app, command, interactive: !!values.interactive || !!process.stdin.isTTY, host: values.host, only });
    return r.exitCode;
  }, run);
}

/** `npm run console -- <app>` and friends: the aliases from app config. Flags go before <app>. */
export function aliasCli(alias: string, argv: string[]) {
  const U = `usage: npm run ${alias || 'alias -- <name>'} -- [--verbose] [--host <name>] <app> [args…]   (every host of the app unless --host)`;
  const run: MainOptions = {};
  return main(async () => {
    if (alias === '--help' || alias === '-h') usage('usage: npm run alias -- <name> <app> [args…]   (console, shell and dbc are shortcuts)', { help: true });
    if (!alias || alias.startsWith('-')) throw new UsageError(alias ? `unknown flag ${alias} before the alias name` : 'missing <name>', 'usage: npm run alias -- <name> <app> [args…]');
    const at = firstPositional(argv, ['--host']);
    const { values } = parseFlags(at < 0 ? argv : argv.slice(0, at), { verbose: common.verbose, help: common.help, host: { type: 'string' } }, U);
    usage(U, values);
    const [appName, ...extra] = at < 0 ? [] : argv.slice(at);
    if (!appName) throw new UsageError('missing <app>', U);
    const deps = createDeps({ verbose: values.verbose });
    run.verbose = values.verbose;
    const app = findApp(await loadProject(deps.root), appName);
    const r = resolveAlias(app, alias, extra);
    if (r.kind === 'exec') return (await exec(deps, { app: appName, command: r.command, interactive: process.stdin.isTTY, host: values.host })).exitCode;
    const [sub, ...rest] = r.argv;
    if (sub === 'logs') return logs(deps, { app: appName, follow: rest.includes('--follow') || rest.includes('-f'), host: values.host });
    throw new StepError('alias', `alias ${alias} names an unknown Berth command "${sub}" (known: logs)`);
  }, run);
}

/** Index of the first positional argument, skipping flags and the values of `valued` flags. */
export function firstPositional(argv: string[], valued: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (valued.includes(a)) i++;
    else if (!a.startsWith('-')) return i;
  }
  return -1;
}

const formatTimings = (t: Record<string, number>) =>
  Object.entries(t)
    .map(([k, v]) => `${k} ${(v / 1000).toFixed(2)}s`)
    .join(', ');
