// PURE placement of one app across hosts: which host runs the web colours, each worker and each
// accessory, and where each accessory is reached from every host that runs the app's image. Every
// other module asks this one (rendering, deploy order, rules, firewall, commands, the swarm engine's
// placement constraints), so "what runs where" is decided once.
//
// Keys (app.yml): the app's `hosts`/`roles` are the default of every process; `web: { hosts, roles }`
// and `workers.<w>.{hosts, roles}` narrow or move a process; accessories take Kamal's `host`, `hosts`
// or `roles`. An accessory on the host of a process is reached by its service name on the app's own
// network; from any other host at the accessory host's private_ip and published port (the first of
// its hosts, by name, when it runs on several and not on the process's host).
import type { App, HostConfig } from '../config/schema.ts';
import { byText } from '../text-order.ts';

/** What one host runs of an app. */
export interface HostProcesses {
  web: boolean;
  /** Worker names, sorted. */
  workers: string[];
  /** Accessory names, sorted. */
  accessories: string[];
  /** Runs the app's image (web or a worker): mounts its volumes, runs the Litestream replicator. */
  image: boolean;
}

export interface Placement {
  /** Every host the app has something on, sorted. */
  hosts: string[];
  /** Hosts running the web colours (routed), sorted. */
  web: string[];
  /** Worker → its hosts, sorted. */
  workers: Record<string, string[]>;
  /** Accessory → its hosts, sorted. */
  accessories: Record<string, string[]>;
  /** Hosts running the app's image (web or any worker), sorted: where its volumes live. */
  imageHosts: string[];
  /** host → what it runs (only the hosts in `hosts`). */
  on: Record<string, HostProcesses>;
  /** Every process and accessory runs on every host: one compose.yml serves them all (the shape before placement existed). */
  uniform: boolean;
}

/** Hosts named, plus hosts having one of the roles (unknown names are skipped: rules report them), sorted. */
export function hostsMatching(hosts: Record<string, HostConfig>, names: readonly string[] = [], roles: readonly string[] = []): string[] {
  const out = new Set<string>(names.filter((n) => hosts[n]));
  for (const [n, h] of Object.entries(hosts)) if (h.roles.some((r) => roles.includes(r))) out.add(n);
  return [...out].sort();
}

/** A process's own hosts/roles when it names any, else `fallback`. */
const own = (hosts: Record<string, HostConfig>, keys: { hosts?: string[]; roles?: string[] } | undefined, fallback: string[]) =>
  keys && (keys.hosts !== undefined || keys.roles !== undefined) ? hostsMatching(hosts, keys.hosts, keys.roles) : fallback;

/** The accessory's `host`, `hosts` and `roles` together (Kamal allows one of them; Berth unites them). */
export function accessoryHostKeys(acc: { host?: string; hosts?: string[]; roles?: string[] }): { hosts?: string[]; roles?: string[] } | undefined {
  if (acc.host === undefined && acc.hosts === undefined && acc.roles === undefined) return undefined;
  return { hosts: [...(acc.host !== undefined ? [acc.host] : []), ...(acc.hosts ?? [])], roles: acc.roles };
}

export function placeApp(app: App, hosts: Record<string, HostConfig>): Placement {
  const c = app.config;
  const base = hostsMatching(hosts, c.hosts, c.roles);
  const web = own(hosts, c.web, base);
  const workers: Record<string, string[]> = {};
  for (const w of Object.keys(c.workers).sort()) workers[w] = own(hosts, c.workers[w], base);
  const accessories: Record<string, string[]> = {};
  for (const a of Object.keys(c.accessories).sort()) accessories[a] = own(hosts, accessoryHostKeys(c.accessories[a]!), base);
  const imageHosts = [...new Set([...web, ...Object.values(workers).flat()])].sort();
  const all = [...new Set([...imageHosts, ...Object.values(accessories).flat()])].sort();
  const on: Record<string, HostProcesses> = {};
  for (const h of all) {
    on[h] = {
      web: web.includes(h),
      workers: Object.keys(workers).filter((w) => workers[w]!.includes(h)),
      accessories: Object.keys(accessories).filter((a) => accessories[a]!.includes(h)),
      image: imageHosts.includes(h),
    };
  }
  const everywhere = (xs: string[]) => xs.length === all.length;
  const uniform = everywhere(web) && Object.values(workers).every(everywhere) && Object.values(accessories).every(everywhere);
  return { hosts: all, web, workers, accessories, imageHosts, on, uniform };
}

/** "running_calendar-db" → "RUNNING_CALENDAR_DB": the prefix of the env names an accessory's address goes by. */
export const accessoryEnvPrefix = (accessory: string) => accessory.toUpperCase().replace(/[^A-Z0-9]/g, '_');
/** The env names Berth sets for an accessory other hosts reach: `<NAME>_HOST` and `<NAME>_PORT`. */
export const accessoryEnvNames = (accessory: string) => ({ host: `${accessoryEnvPrefix(accessory)}_HOST`, port: `${accessoryEnvPrefix(accessory)}_PORT` });

export interface PortBinding {
  ip: string; // "0.0.0.0" when the binding names no address
  hostPort: number;
  containerPort: number;
}

/** "127.0.0.1:5432:5432" or "5432:5432" → its parts (undefined when it does not parse). */
export function parsePortBinding(binding: string): PortBinding | undefined {
  const parts = binding.split(':');
  if (parts.length === 3) return { ip: parts[0]!, hostPort: Number(parts[1]), containerPort: Number(parts[2]) };
  if (parts.length === 2) return { ip: '0.0.0.0', hostPort: Number(parts[0]), containerPort: Number(parts[1]) };
  return undefined;
}

/** Hosts running the app's image that do not run the accessory: they reach it over the private network. */
export const remoteUsers = (p: Placement, accessory: string) => p.imageHosts.filter((h) => !p.accessories[accessory]?.includes(h));

/** Accessories some host running the app's image reaches on another host, sorted. */
export const sharedAccessories = (p: Placement) => Object.keys(p.accessories).filter((a) => remoteUsers(p, a).length > 0);

/**
 * The port an accessory publishes on `host`: an accessory other hosts reach is published on that
 * host's private_ip only (whatever address its binding names: the rules allow none or private_ip);
 * any other keeps its own binding (127.0.0.1 by the rules). Undefined without a port.
 */
export function publishedBinding(app: App, p: Placement, hosts: Record<string, HostConfig>, accessory: string, host: string): string | undefined {
  const port = app.config.accessories[accessory]?.port;
  const b = port ? parsePortBinding(port) : undefined;
  if (!port || !b) return port;
  if (!remoteUsers(p, accessory).length) return port;
  const ip = hosts[host]?.private_ip;
  return ip ? `${ip.includes(':') ? `[${ip}]` : ip}:${b.hostPort}:${b.containerPort}` : port;
}

export interface AccessoryEndpoint {
  accessory: string;
  /** Where it runs for this process: the process's own host, or the first of its hosts. */
  host: string;
  local: boolean;
  /** Service name (local) or the accessory host's private_ip. */
  address: string;
  /** Container port (local) or published host port; undefined when the accessory publishes none. */
  port?: number;
}

/** Where a process on `from` reaches `accessory`. */
export function accessoryEndpoint(app: App, p: Placement, hosts: Record<string, HostConfig>, accessory: string, from: string): AccessoryEndpoint {
  const on = p.accessories[accessory] ?? [];
  const port = app.config.accessories[accessory]?.port;
  const b = port ? parsePortBinding(port) : undefined;
  if (on.includes(from)) return { accessory, host: from, local: true, address: accessory, ...(b ? { port: b.containerPort } : {}) };
  const host = on[0] ?? from;
  return { accessory, host, local: false, address: hosts[host]?.private_ip ?? accessory, ...(b ? { port: b.hostPort } : {}) };
}

/**
 * Env of the app's processes on `from`: `<NAME>_HOST` / `<NAME>_PORT` of every accessory some host
 * reaches across the network (the same names on every host, each with the value right there).
 * Accessories every process has beside it get none: they are reached by name, as before placement.
 */
export function accessoryEnv(app: App, p: Placement, hosts: Record<string, HostConfig>, from: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const a of sharedAccessories(p)) {
    const e = accessoryEndpoint(app, p, hosts, a, from);
    const names = accessoryEnvNames(a);
    env[names.host] = e.address;
    if (e.port !== undefined) env[names.port] = String(e.port);
  }
  return env;
}

/** One firewall opening on a host: `port` on `address` (its private_ip), from the private_ips in `sources` only. */
export interface AccessoryOpening {
  app: string;
  accessory: string;
  address: string;
  port: number;
  sources: string[];
}

/**
 * What the firewall of `host` must let in for accessories other hosts reach: per accessory it runs,
 * its published port on the host's private_ip, from the private_ips of the app's other image hosts
 * only. Hosts without a private_ip cannot be named (rules refuse that config). Sorted.
 */
export function accessoryOpenings(apps: readonly App[], hosts: Record<string, HostConfig>, host: string): AccessoryOpening[] {
  const out: AccessoryOpening[] = [];
  const address = hosts[host]?.private_ip;
  if (!address) return out;
  for (const app of apps) {
    const p = placeApp(app, hosts);
    for (const a of sharedAccessories(p)) {
      if (!p.accessories[a]!.includes(host)) continue;
      const b = app.config.accessories[a]!.port ? parsePortBinding(app.config.accessories[a]!.port!) : undefined;
      if (!b) continue;
      const sources = [...new Set(p.imageHosts.filter((h) => h !== host).map((h) => hosts[h]?.private_ip).filter((ip): ip is string => !!ip))].sort();
      out.push({ app: app.name, accessory: a, address, port: b.hostPort, sources });
    }
  }
  return out.sort((x, y) => x.port - y.port || byText(x.app, y.app));
}

/** One line per host for `plan`: "h4: web, worker jobs" … */
export function describePlacement(p: Placement): string[] {
  return p.hosts.map((h) => {
    const on = p.on[h]!;
    const parts = [...(on.web ? ['web'] : []), ...on.workers.map((w) => `worker ${w}`), ...on.accessories.map((a) => `accessory ${a}`)];
    return `${h}: ${parts.join(', ') || 'nothing'}`;
  });
}
