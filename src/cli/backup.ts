// Handlers of the data-safety commands: backup:status, backup:verify, backup:restore
// (flags, help and examples: src/cli/table.ts).
import { backupRestore, backupStatus, backupVerify } from '../app/backup.ts';
import { formatBackupStatus } from '../plan/backup-status.ts';
import { EXIT, UsageError } from '../errors.ts';
import { createDeps } from './deps.ts';
import type { CommandArgs } from './spec.ts';

/** Exit 3 when any database or dump set is red (lag, broken replication, stale or failed verify). */
export async function backupStatusCli({ values, positionals, main }: CommandArgs) {
  const deps = createDeps(values);
  main.secrets = () => deps.log.secrets();
  const r = await backupStatus(deps, { app: positionals[0] });
  deps.log.output(values.json ? JSON.stringify(r, null, 2) : formatBackupStatus(r.databases, r.dumps, r.now));
  return r.ok ? EXIT.ok : EXIT.red;
}

/** Exit 1 when a restore fails its check or differs from the live database. */
export async function backupVerifyCli({ values, positionals, main }: CommandArgs) {
  const deps = createDeps(values);
  main.secrets = () => deps.log.secrets();
  const records = await backupVerify(deps, { app: positionals[0]! });
  if (values.json) deps.log.output(JSON.stringify(records, null, 2));
  return records.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
}

export async function backupRestoreCli({ values, positionals, usage, main }: CommandArgs<{ at?: string; db?: string; accessory?: string; dump?: string }>) {
  const app = positionals[0]!;
  if (values.at !== undefined && Number.isNaN(Date.parse(values.at))) throw new UsageError(`--at expects an ISO time such as 2026-01-31T12:00:00Z, got ${JSON.stringify(values.at)}`, usage);
  if (values.dump !== undefined && !/^[A-Za-z0-9_.-]+$/.test(values.dump)) throw new UsageError(`--dump expects a dump file name (no folders), got ${JSON.stringify(values.dump)}`, usage);
  const deps = createDeps(values);
  main.secrets = () => deps.log.secrets();
  const out = await backupRestore(deps, { app, at: values.at, db: values.db, accessory: values.accessory, dump: values.dump });
  if (values.json) deps.log.output(JSON.stringify(out, null, 2));
  else for (const o of out) deps.log.info(`${o.host}: restored ${o.restored.join(', ')}${o.safetyCopy ? ` (safety copy ${o.safetyCopy})` : ''}`);
}
