// PURE host selection for Kamal-style filters: `--hosts a,b` and `--roles web,job` narrow the hosts
// an app deploys to (both given: hosts in both). A filter naming a host or role the app does not use
// is an error (UnknownNameError: exit 2), never an empty, silent run.
import { StepError, UnknownNameError } from '../errors.ts';
import { placeApp } from '../plan/placement.ts';
import type { App, HostConfig } from './schema.ts';

export interface HostFilter {
  hosts?: string[];
  roles?: string[];
}

const NAME = /^[a-z][a-z0-9_-]*$/;

/** `--hosts a,b --roles web` → a HostFilter; names are checked (they end up in messages and paths). */
export function parseHostFilter(values: { hosts?: string; roles?: string }): HostFilter {
  const split = (flag: string, v?: string) => {
    if (v === undefined) return undefined;
    const list = v.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = list.find((s) => !NAME.test(s));
    if (!list.length || bad !== undefined) throw new StepError('usage', `--${flag} takes a comma-separated list of names from hosts.json (lowercase letters, digits, "-" or "_"), got ${JSON.stringify(v)}`);
    return list;
  };
  return { hosts: split('hosts', values.hosts), roles: split('roles', values.roles) };
}

/** The app's hosts narrowed by the filter, sorted. Throws when the filter names something the app does not deploy to. */
export function filterHosts(app: App, hosts: Record<string, HostConfig>, filter: HostFilter = {}): string[] {
  // Every host the app has something on (web, a worker or an accessory: src/plan/placement.ts).
  const selected = placeApp(app, hosts).hosts;
  if (!filter.hosts && !filter.roles) return selected;
  const unknown = (filter.hosts ?? []).filter((h) => !selected.includes(h));
  if (unknown.length) {
    throw new UnknownNameError(`${app.name} does not deploy to ${unknown.join(', ')} (its hosts: ${selected.join(', ') || 'none'}; see hosts/roles in ${app.file})`);
  }
  let out = filter.hosts ? selected.filter((h) => filter.hosts!.includes(h)) : selected;
  if (filter.roles) {
    const appRoles = [...new Set(selected.flatMap((h) => hosts[h]!.roles))].sort();
    const missing = filter.roles.filter((r) => !appRoles.includes(r));
    if (missing.length) throw new UnknownNameError(`no host of ${app.name} has role ${missing.join(', ')} (roles of its hosts: ${appRoles.join(', ') || 'none'}; roles are set in hosts.json)`);
    out = out.filter((h) => hosts[h]!.roles.some((r) => filter.roles!.includes(r)));
  }
  if (!out.length) throw new UnknownNameError(`--hosts and --roles together select none of ${app.name}'s hosts (${selected.join(', ')})`);
  return out;
}

/** A host named on the command line (setup h1, status --host h1): one of hosts.json, else UnknownNameError (exit 2). */
export function requireHost(hosts: Record<string, unknown>, name: string): string {
  if (!Object.hasOwn(hosts, name)) throw new UnknownNameError(`hosts.json: no host "${name}" (hosts: ${Object.keys(hosts).sort().join(', ') || 'none'}); add it to hosts.json or pick one of those`);
  return name;
}
