// CLI front ends of the data-safety commands: backup:status, backup:verify, backup:restore.
import { backupRestore, backupStatus, backupVerify } from '../app/backup.ts';
import { formatBackupStatus } from '../plan/backup-status.ts';
import { UsageError } from '../errors.ts';
import { createDeps } from './deps.ts';
import { main, type MainOptions } from './main.ts';
import { common, needApp, parseFlags, usage } from './args.ts';
import { cliCommand } from './command.ts';

/** Exit 1 when any database or dump set is red (lag, broken replication, stale or failed verify). */
export function backupStatusCli(argv: string[]) {
  const U = 'usage: npm run backup:status -- [<app>] [--json]   (exit 1 when anything is red)';
  return cliCommand(argv, U, common, { max: 1 }, async ({ values, positionals }, deps) => {
    const r = await backupStatus(deps, { app: positionals[0] });
    deps.log.output(values.json ? JSON.stringify(r, null, 2) : formatBackupStatus(r.databases, r.dumps, r.now));
    return r.ok ? 0 : 1;
  });
}

export function backupVerifyCli(argv: string[]) {
  const U = 'usage: npm run backup:verify -- <app> [--json]   (restores the latest replica into a throwaway container, checks and compares it)';
  return cliCommand(argv, U, common, { max: 1 }, async ({ values, positionals }, deps) => {
    const records = await backupVerify(deps, { app: needApp(positionals, U) });
    if (values.json) deps.log.output(JSON.stringify(records, null, 2));
    return records.every((r) => r.ok) ? 0 : 1;
  });
}

export function backupRestoreCli(argv: string[]) {
  const U = [
    'usage: npm run backup:restore -- <app> [--at <ISO time>] [--db <container path>] | <app> --accessory <name> [--dump <file>]',
    '       (newest dump by default)',
  ].join('\n');
  const run: MainOptions = {};
  return main(async () => {
    const { values, positionals } = parseFlags(
      argv,
      { ...common, at: { type: 'string' }, db: { type: 'string' }, accessory: { type: 'string' }, dump: { type: 'string' } },
      U,
      { max: 1 },
    );
    usage(U, values);
    const app = needApp(positionals, U);
    if (values.at !== undefined && Number.isNaN(Date.parse(values.at))) throw new UsageError(`--at expects an ISO time such as 2026-01-31T12:00:00Z, got ${JSON.stringify(values.at)}`, U);
    if (values.dump !== undefined && !/^[A-Za-z0-9_.-]+$/.test(values.dump)) throw new UsageError(`--dump expects a dump file name (no folders), got ${JSON.stringify(values.dump)}`, U);
    const deps = createDeps(values);
    Object.assign(run, { verbose: values.verbose, secrets: () => deps.log.secrets() });
    const out = await backupRestore(deps, { app, at: values.at, db: values.db, accessory: values.accessory, dump: values.dump });
    if (values.json) deps.log.output(JSON.stringify(out, null, 2));
    else for (const o of out) deps.log.info(`${o.host}: restored ${o.restored.join(', ')}${o.safetyCopy ? ` (safety copy ${o.safetyCopy})` : ''}`);
  }, run);
}
