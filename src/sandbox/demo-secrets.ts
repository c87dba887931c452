// The demo's secrets, kept where the example's secret_commands read them: generated once and stable
// (a second demo is a no-op, and every README command works on the example afterwards), stored in
// the sandbox's state directory on this machine (never in git).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SANDBOX_STATE_DIR } from './config.ts';

export const DEMO_SECRET_NAMES = ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY', 'SECRET_KEY_BASE'] as const;
export const demoSecretsDir = (stateDir = SANDBOX_STATE_DIR) => join(stateDir, 'demo', 'secrets');
export const demoSecretFile = (name: string, stateDir = SANDBOX_STATE_DIR) => join(demoSecretsDir(stateDir), name);

/** Write the demo's secret files (dir 700, files 600): the sandbox S3 keys, a Rails secret made once. */
export function ensureDemoSecrets(stateDir = SANDBOX_STATE_DIR): void {
  const dir = demoSecretsDir(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const s3 = JSON.parse(readFileSync(join(stateDir, 's3', 'credentials.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
  const put = (name: string, value: string) => {
    const f = join(dir, name);
    if (!existsSync(f) || readFileSync(f, 'utf8') !== value) writeFileSync(f, value, { mode: 0o600 });
    chmodSync(f, 0o600);
  };
  put('LITESTREAM_ACCESS_KEY_ID', s3.accessKeyId);
  put('LITESTREAM_SECRET_ACCESS_KEY', s3.secretAccessKey);
  const kb = join(dir, 'SECRET_KEY_BASE');
  if (!existsSync(kb)) writeFileSync(kb, randomBytes(32).toString('hex'), { mode: 0o600 });
}
