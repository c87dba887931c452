// Time of `npm run backup:verify` for the Rails app's databases, when that command exists (issue 6).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from '../context.ts';
import { REPO_ROOT } from '../../sandbox/paths.ts';

export const BACKUP_VERIFY_NA = 'n/a (backup:verify not available)';

export async function runBackupVerify(ctx: BenchContext) {
  if (!existsSync(join(REPO_ROOT, 'scripts', 'backup-verify.ts'))) {
    ctx.rec.notes.push(`backup:verify time (Rails app databases): ${BACKUP_VERIFY_NA}`);
    ctx.log(BACKUP_VERIFY_NA);
    return;
  }
  ctx.rec.notes.push('backup:verify time (Rails app databases): n/a (scripts/backup-verify.ts exists but the bench does not drive it yet)');
  ctx.log('scripts/backup-verify.ts exists; timing it is not wired up yet');
}
