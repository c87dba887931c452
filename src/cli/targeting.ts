// Kamal-style targeting flags shared by deploy, rollback, logs, exec, config, lock and remove:
// `--hosts a,b`, `--roles web`, `-d/--destination staging` (apps/<app>/app.staging.yml).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DESTINATION, destinationAppName, destinationFiles } from '../config/destinations.ts';
import { parseHostFilter, type HostFilter } from '../config/host-filter.ts';
import { APPS_DIR } from '../config/load.ts';
import { formatIssue, StepError, UnknownNameError, UsageError } from '../errors.ts';

export { TARGETING as targetOptions } from './spec.ts';

export const TARGET_USAGE = '[--hosts h1,h2] [--roles web] [-d <destination>]';

/** The app a command acts on: <app>, or <app>-<destination> when -d names an override file beside app.yml. */
export function targetApp(root: string, app: string, destination?: string, usage = `usage: berth <command> <app> ${TARGET_USAGE}`): string {
  if (destination === undefined) return app;
  if (!DESTINATION.test(destination)) throw new UsageError(`--destination takes a name of lowercase letters, digits and "-", got ${JSON.stringify(destination)}`, usage);
  const dir = join(root, APPS_DIR, app);
  const found = existsSync(dir) ? destinationFiles(readdirSync(dir)) : [];
  if (!found.some((f) => f.destination === destination)) {
    const known = found.map((f) => f.destination).join(', ') || 'none';
    throw new UnknownNameError(
      formatIssue({
        file: `${APPS_DIR}/${app}/app.${destination}.yml`,
        path: '',
        expected: `a destination override beside ${APPS_DIR}/${app}/app.yml (destinations: ${known})`,
        found: 'nothing',
        hint: `create it with the keys that differ (hosts, domains, litestream.replica.url …)`,
      }),
    );
  }
  return destinationAppName(app, destination);
}

/** --hosts/--roles as a HostFilter; a malformed list is a usage error. */
export function hostFilterOf(values: { hosts?: string; roles?: string }, usage = `usage: berth <command> <app> ${TARGET_USAGE}`): HostFilter {
  try {
    return parseHostFilter(values);
  } catch (e) {
    if (e instanceof StepError) throw new UsageError(e.message.replace(/^usage: /, ''), usage);
    throw e;
  }
}
