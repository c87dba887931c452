// Names and paths of the data-safety features (Litestream status/verify/restore, restore points,
// safety copies) that names.ts does not define. Defined once here; candidates for names.ts.
import { appDir } from '../names.ts';

/** Litestream's control socket inside the replicator container (litestream.yml `socket.path`). */
export const LITESTREAM_SOCKET = '/var/run/litestream.sock';

/** Per-app directory on the host for backup records (not the pg_dump directory, see backupsDir). */
export const appBackupDir = (app: string) => `${appDir(app)}/backups`;
/** Result of the last `backup:verify`, read by `backup:status`. */
export const verifyRecordFile = (app: string) => `${appBackupDir(app)}/verify.json`;
/** Copies of the live databases taken by `backup:restore` before it replaces them. */
export const safetyCopiesDir = (app: string) => `${appBackupDir(app)}/safety`;
/** Restore points taken by the deploy pre-flight (sqlite3 .backup copies + point.json). */
export const restorePointsDir = (app: string) => `${appBackupDir(app)}/restore-points`;
/** How many pre-flight restore points are kept on the host. */
export const RESTORE_POINTS_KEPT = 3;

/** Where a throwaway container sees host directories while verifying or restoring. */
export const SAFETY_MOUNT = '/berth-safety';
export const RESTORE_POINT_MOUNT = '/berth-restore-point';
