// The sandbox-machine API (hosts h1..h3 as machines; src/sandbox/fleet.ts, re-exported by
// ./project.ts) as the fleet, hardening and host-fault tests use it. Typed here so these tests
// compile on a checkout where the machines have not landed yet; there they stop at once, saying so.
import * as config from '../../../src/sandbox/config.ts';
import * as http from '../../../src/sandbox/http.ts';
import type { RunResult } from '../../../src/sandbox/proc.ts';
import * as project from './project.ts';

export interface MachineSpec {
  name: string;
  context: string;
  sshHost: string;
  sshPort: number;
  sshUser: string;
  /** The machine container on this machine's engine. */
  container: string;
  /** Its address on the fleet network (what other hosts and the front use). */
  address: string;
  /** Loopback address here where its 80/443 answer. */
  edgeAddress: string;
  bare: boolean;
}

type Opts = { allowFail?: boolean; timeoutMs?: number; input?: string };

interface FleetApi {
  H1: MachineSpec;
  H2: MachineSpec;
  H3: MachineSpec;
  onHost(h: MachineSpec, script: string, opts?: Opts): Promise<RunResult>;
  onConsole(h: MachineSpec, script: string, opts?: Opts): Promise<RunResult>;
  restartDocker(h: MachineSpec, timeoutMs?: number): Promise<void>;
  rebootHost(h: MachineSpec, timeoutMs?: number): Promise<void>;
  resetHost(h: MachineSpec): Promise<void>;
  routeDomain(domain: string, host: MachineSpec): Promise<void>;
  unrouteDomainHost(domain: string): Promise<void>;
  makeProject(prefix?: string, hosts?: MachineSpec[]): project.TestProject;
  resetApps(names: string[], host?: MachineSpec): void;
  hostsFor(hosts?: MachineSpec[]): { hosts: Record<string, Record<string, unknown>> };
}

const api = project as unknown as Partial<FleetApi>;
const cfg = config as unknown as { FLEET_NETWORK?: { name: string } };

/** Throws (failing the test's `before`) unless the sandbox hosts are machines. */
export function fleet(): FleetApi & { network: string; setDomainHost: (domain: string, address: string | undefined) => void } {
  const missing = (['H2', 'H3', 'onHost', 'onConsole', 'restartDocker', 'rebootHost', 'resetHost', 'routeDomain'] as const).filter((k) => !api[k]);
  const setDomainHost = (http as unknown as { setDomainHost?: (d: string, a: string | undefined) => void }).setDomainHost;
  if (missing.length || !cfg.FLEET_NETWORK || !setDomainHost || !(api.H1 as Partial<MachineSpec>).container) {
    throw new Error(`these tests need the sandbox hosts as machines (src/sandbox/fleet.ts); missing here: ${[...missing, 'FLEET_NETWORK'].join(', ')}`);
  }
  return { ...(api as FleetApi), network: cfg.FLEET_NETWORK.name, setDomainHost };
}

/** Run `script` on `from` and return its result (host-to-host traffic stays on the fleet network). */
export async function fromHost(from: MachineSpec, script: string, timeoutMs = 60_000): Promise<RunResult> {
  return fleet().onConsole(from, script, { allowFail: true, timeoutMs });
}
