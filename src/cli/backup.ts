// CLI front ends of the data-safety commands: backup:status, backup:verify, backup:restore.
import { parseArgs } from 'node:util';
import { backupRestore, backupStatus, backupVerify } from '../app/backup.ts';
import { formatBackupStatus } from '../plan/backup-status.ts';
import { StepError } from '../errors.ts';
import { createDeps } from './deps.ts';
import { main } from './main.ts';
import { common, usage } from './args.ts';

/** Exit 1 when any database or dump set is red (lag, broken replication, stale or failed verify). */
export function backupStatusCli(argv: string[]) {
  const U = 'usage: npm run backup:status -- [<app>] [--json]   (exit 1 when anything is red)';
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: common });
  usage(U, values);
  const deps = createDeps(values);
  return main(async () => {
    const r = await backupStatus(deps, { app: positionals[0] });
    deps.log.output(values.json ? JSON.stringify(r, null, 2) : formatBackupStatus(r.databases, r.dumps, r.now));
    return r.ok ? 0 : 1;
  }, { verbose: values.verbose });
}

export function backupVerifyCli(argv: string[]) {
  const U = 'usage: npm run backup:verify -- <app> [--json]   (restores the latest replica into a throwaway container, checks and compares it)';
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: common });
  usage(U, values);
  const deps = createDeps(values);
  return main(async () => {
    const app = positionals[0];
    if (!app) throw new StepError('usage', `missing <app>\n${U}`);
    const records = await backupVerify(deps, { app });
    if (values.json) deps.log.output(JSON.stringify(records, null, 2));
    return records.every((r) => r.ok) ? 0 : 1;
  }, { verbose: values.verbose });
}

export function backupRestoreCli(argv: string[]) {
  const U = [
    'usage: npm run backup:restore -- <app> [--at <ISO time>] [--db <container path>]',
    '       npm run backup:restore -- <app> --accessory <name> [--dump <file>]   (newest dump by default)',
  ].join('\n');
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { ...common, at: { type: 'string' }, db: { type: 'string' }, accessory: { type: 'string' }, dump: { type: 'string' } },
  });
  usage(U, values);
  const deps = createDeps(values);
  return main(async () => {
    const app = positionals[0];
    if (!app) throw new StepError('usage', `missing <app>\n${U}`);
    const out = await backupRestore(deps, { app, at: values.at, db: values.db, accessory: values.accessory, dump: values.dump });
    if (values.json) deps.log.output(JSON.stringify(out, null, 2));
    else for (const o of out) deps.log.info(`${o.host}: restored ${o.restored.join(', ')}${o.safetyCopy ? ` (safety copy ${o.safetyCopy})` : ''}`);
  }, { verbose: values.verbose, secrets: () => deps.log.secrets() });
}
