// Which project folder a command acts on: $BERTH_ROOT, else the nearest folder from the current
// one upwards that holds hosts.json or apps/ (so `berth` works anywhere inside a user's own infra
// repo), else the current folder (where `berth init` puts one).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export function projectRoot(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  if (env.BERTH_ROOT) return resolve(cwd, env.BERTH_ROOT);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'hosts.json')) || existsSync(join(dir, 'apps'))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}
