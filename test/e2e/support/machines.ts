// The sandbox-machine API (hosts h1..h3 as machines; src/sandbox/fleet.ts, re-exported by
// ./project.ts) in one object for the fleet, hardening and host-fault tests, plus host-to-host helpers.
import { FLEET_NETWORK, type SandboxHostSpec } from '../../../src/sandbox/config.ts';
import { setDomainHost } from '../../../src/sandbox/http.ts';
import type { RunResult } from '../../../src/sandbox/proc.ts';
import * as project from './project.ts';

export type MachineSpec = SandboxHostSpec;

export function fleet() {
  return { ...project, network: FLEET_NETWORK.name, setDomainHost };
}

/** Run `script` inside `from` (its console, so the traffic it makes leaves from that host's address). */
export function fromHost(from: MachineSpec, script: string, timeoutMs = 60_000): Promise<RunResult> {
  return project.onConsole(from, script, { allowFail: true, timeoutMs });
}
