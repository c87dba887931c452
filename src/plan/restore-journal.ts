// What a backup:restore journal left on a host means for the operator (PURE): status shows it,
// and deploy, rollback and start refuse to act over a restore that runs or was cut off.
import type { RestoreJournal } from '../exec/state.ts';

export function restoreNote(app: string, r: RestoreJournal): string {
  const since = r.since ? ` (started ${new Date(r.since * 1000).toISOString()})` : '';
  return r.alive
    ? `a backup:restore is running on the host${since}: the app is stopped until it ends, and it finishes by itself (npm run backup:restore -- ${app} follows it)`
    : `a backup:restore was cut off ${r.step ? `after its step "${r.step}"` : 'before its first step'}${since}: the app may be down or unreplicated; run npm run backup:restore -- ${app} to finish it`;
}
