// Kamal-style targeting flags shared by deploy, rollback, logs, exec, config, lock and remove:
// `--hosts a,b`, `--roles web`, `-d/--destination staging` (apps/<app>/app.staging.yml).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DESTINATION, destinationAppName, destinationFiles } from '../config/destinations.ts';
import { parseHostFilter, type HostFilter } from '../config/host-filter.ts';
import { APPS_DIR } from '../config/load.ts';
import { ConfigError, UsageError } from '../errors.ts';

export const targetOptions = {
  hosts: { type: 'string' },
  roles: { type: 'string' },
  destination: { type: 'string', short: 'd' },
} as const;

export const TARGET_USAGE = '[--hosts h1,h2] [--roles web] [-d <destination>]';

/** The app a command acts on: <app>, or <app>-<destination> when -d names an override file beside app.yml. */
export function targetApp(root: string, app: string, destination?: string): string {
  if (destination === undefined) return app;
  if (!DESTINATION.test(destination)) throw new UsageError(`--destination takes a name of lowercase letters, digits and "-", got ${JSON.stringify(destination)}`, `usage: npm run <command> -- <app> ${TARGET_USAGE}`);
  const dir = join(root, APPS_DIR, app);
  const found = existsSync(dir) ? destinationFiles(readdirSync(dir)) : [];
  if (!found.some((f) => f.destination === destination)) {
    const known = found.map((f) => f.destination).join(', ') || 'none';
    throw new ConfigError([
      {
        file: `${APPS_DIR}/${app}/app.${destination}.yml`,
        path: '',
        expected: `a destination override beside ${APPS_DIR}/${app}/app.yml (destinations: ${known})`,
        found: 'nothing',
        hint: `create it with the keys that differ (hosts, domains, litestream.replica.url …)`,
      },
    ]);
  }
  return destinationAppName(app, destination);
}

export const hostFilterOf = (values: { hosts?: string; roles?: string }): HostFilter => parseHostFilter(values);
