// Handlers of the deploy and day-two commands (flags, help and examples: src/cli/table.ts). Each
// gets its parsed flags, builds the real dependencies, calls the use case and prints.
// The use cases load when their command runs (a rollback never initialises the deploy pipeline's
// modules: ~15 ms of every start measured with --cpu-prof).
import { findApp } from '../app/app-context.ts';
import { withLockWait } from '../app/lock-wait.ts';
import { loadProject } from '../config/load.ts';
import { EXIT, StepError, UsageError } from '../errors.ts';
import { paintFor } from '../log/colour.ts';
import { createDeps } from './deps.ts';
import { durationFlag, intFlag, releaseFlag, sinceFlag } from './args.ts';
import type { CommandArgs } from './spec.ts';
import { hostFilterOf, targetApp } from './targeting.ts';

interface Targeting {
  hosts?: string;
  roles?: string;
  destination?: string;
}

export async function deployCli({ values, positionals, usage, main }: CommandArgs<{ release?: string; 'dry-run'?: boolean; 'lock-wait'?: string } & Targeting>) {
  const only = hostFilterOf(values, usage);
  const release = releaseFlag('--release', values.release, usage);
  const waitMs = durationFlag('--lock-wait', values['lock-wait'], usage) ?? 0;
  const deps = createDeps({ ...values, dryRun: !!values['dry-run'] });
  const app = targetApp(deps.root, positionals[0]!, values.destination, usage);
  main.secrets = () => deps.log.secrets();
  const { deploy } = await import('../app/deploy.ts');
  const out = await withLockWait(deps.log, { waitMs }, () => deploy(deps, { app, release, only }));
  if (values.json) deps.log.output(JSON.stringify(out, null, 2));
  else for (const o of out) deps.log.info(`${o.host}: ${o.result} ${o.release} (${o.colour ?? 'no web'}) — ${formatTimings(o.timings)}`);
}

export async function rollbackCli({ values, positionals, usage, main }: CommandArgs<{ to?: string } & Targeting>) {
  const only = hostFilterOf(values, usage);
  // A release id on the host is "<tag>-<config hash>[-<image id>]": the same grammar as a tag.
  const to = releaseFlag('--to', values.to, usage, 128 + 11 + 13);
  const deps = createDeps(values);
  const app = targetApp(deps.root, positionals[0]!, values.destination, usage);
  main.secrets = () => deps.log.secrets();
  const { rollback } = await import('../app/rollback.ts');
  const out = await rollback(deps, { app, to, only });
  if (values.json) deps.log.output(JSON.stringify(out, null, 2));
  else for (const o of out) deps.log.info(`${o.host}: rolled back to ${o.release} (${o.colour}) — ${formatTimings(o.timings)}`);
}

export async function setupCli({ values, positionals, usage, main, form }: CommandArgs<{ harden?: boolean; check?: boolean }>) {
  const deps = createDeps(values);
  main.secrets = () => deps.log.secrets();
  if (values.check && !values.harden) {
    // Without --harden: the swarm clusters' nodes (state, labels, roles, membership).
    const project = await loadProject(deps.root);
    if (!Object.keys(project.clusters ?? {}).length) throw new UsageError('--check checks the hardening (--harden --check) or a cluster (hosts.json defines none)', usage);
    const { checkClusters } = await import('../app/cluster-setup.ts');
    const checks = await checkClusters(deps, project, positionals[0] ? [positionals[0]] : undefined);
    if (values.json) deps.log.output(JSON.stringify(checks, null, 2));
    else for (const c of checks) deps.log.output(c.lines.map((l) => `cluster ${c.cluster}: ${l}`).join('\n'));
    const drifted = checks.filter((c) => !c.ok).map((c) => c.cluster);
    if (drifted.length) deps.log.error(`cluster ${drifted.join(', ')} differs from hosts.json: rerun "${form === 'npm' ? 'npm run setup' : 'berth setup'}" to converge it`);
    return drifted.length ? EXIT.red : EXIT.ok;
  }
  if (values.check) {
    if (!values.harden) throw new UsageError('--check checks the hardening: use --harden --check', usage);
    const { checkHardening } = await import('../app/harden-check.ts');
    const checks = await checkHardening(deps, { host: positionals[0] });
    if (values.json) deps.log.output(JSON.stringify(checks, null, 2));
    else for (const c of checks) deps.log.output(c.lines.map((l) => `${c.host}: ${l}`).join('\n'));
    const drifted = checks.filter((c) => !c.ok).map((c) => c.host);
    const again = form === 'npm' ? 'npm run setup -- <host> --harden' : 'berth setup <host> --harden';
    if (drifted.length) deps.log.error(`hardening drifted on ${drifted.join(', ')}: rerun "${again}" to restore it`);
    return drifted.length ? EXIT.red : EXIT.ok;
  }
  const { setup } = await import('../app/setup.ts');
  const hosts = await setup(deps, { host: positionals[0], harden: values.harden });
  deps.log.info(`edge up on ${hosts.join(', ')}`);
}

/** Exit 3 when a row is red (a script or cron job can tell "red" from "could not run"). */
export async function statusCli({ values, positionals }: CommandArgs<{ host?: string }>) {
  const deps = createDeps(values);
  const { formatStatus, status, statusRed } = await import('../app/ops.ts');
  const rows = await status(deps, { app: positionals[0], host: values.host });
  deps.log.output(values.json ? JSON.stringify(rows, null, 2) : formatStatus(rows, paintFor(process.stdout)));
  return rows.some(statusRed) ? EXIT.red : EXIT.ok;
}

const SERVICE = /^[a-z0-9][a-z0-9_.-]*$/;

export async function logsCli({ values, positionals, usage }: CommandArgs<{ host?: string; follow?: boolean; tail?: string; since?: string; grep?: string; service?: string } & Targeting>) {
  const only = hostFilterOf(values, usage);
  const tail = intFlag('--tail', values.tail, usage);
  const since = sinceFlag(values.since, usage);
  if (values.service !== undefined && !SERVICE.test(values.service)) {
    throw new UsageError(`--service expects a compose service name such as web-blue or worker-jobs, got ${JSON.stringify(values.service)}`, usage);
  }
  if (values.grep === '') throw new UsageError('--grep needs a non-empty text', usage);
  const deps = createDeps(values);
  const app = targetApp(deps.root, positionals[0]!, values.destination, usage);
  const { logs } = await import('../app/ops.ts');
  return logs(deps, { app, follow: values.follow, tail, since, grep: values.grep, service: values.service, host: values.host, only });
}

/** Flags come before <app>; everything after it is the command, verbatim (it has flags of its own). */
export async function execCli({ values, positionals, rest, usage, main }: CommandArgs<{ interactive?: boolean; host?: string; replica?: string; all?: boolean } & Targeting>) {
  if (!rest.length) throw new UsageError('missing <command…>', usage);
  const only = hostFilterOf(values, usage);
  // On a cluster: the first task, task --replica N, or --all of them one after another.
  const replica = intFlag('--replica', values.replica, usage, 1);
  if (replica !== undefined && values.all) throw new UsageError('--replica and --all exclude each other', usage);
  const deps = createDeps(values);
  const app = targetApp(deps.root, positionals[0]!, values.destination, usage);
  main.secrets = () => deps.log.secrets();
  const { exec } = await import('../app/ops.ts');
  const r = await exec(deps, { app, command: rest, interactive: !values.all && (!!values.interactive || !!process.stdin.isTTY), host: values.host, only, all: values.all, replica });
  return r.exitCode;
}

/** `berth console <app>` and friends: the aliases from app config. Flags go before <app>. */
export async function aliasCli({ values, positionals, rest, main }: CommandArgs<{ host?: string }>) {
  const [alias, appName] = positionals as [string, string];
  const deps = createDeps({ verbose: values.verbose });
  main.secrets = () => deps.log.secrets();
  const app = findApp(await loadProject(deps.root), appName);
  const { exec, logs, resolveAlias } = await import('../app/ops.ts');
  const r = resolveAlias(app, alias, rest);
  if (r.kind === 'exec') return (await exec(deps, { app: appName, command: r.command, interactive: process.stdin.isTTY, host: values.host })).exitCode;
  const [sub, ...more] = r.argv;
  if (sub === 'logs') return logs(deps, { app: appName, follow: more.includes('--follow') || more.includes('-f'), host: values.host });
  throw new StepError('alias', `alias ${alias} names an unknown Berth command "${sub}" (known: logs)`);
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
