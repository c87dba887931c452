// The host-only secrets file: one NAME="value" line per secret (a dotenv file that
// `docker compose --env-file` reads when a person runs the project by hand on the server).
// Values are JSON-quoted so any byte sequence round-trips.
import { createHash } from 'node:crypto';

export function formatSecretsEnv(values: Record<string, string>): string {
  return Object.keys(values)
    .sort()
    .map((k) => `${k}=${JSON.stringify(values[k])}\n`)
    .join('');
}

export function parseSecretsEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(".*")$/.exec(line);
    if (m) out[m[1]!] = JSON.parse(m[2]!) as string;
  }
  return out;
}

/** A digest of the secret values, recorded with a release so a changed secret is a change. */
export const secretsDigest = (values: Record<string, string>) =>
  createHash('sha256').update(formatSecretsEnv(values)).digest('hex').slice(0, 16);
