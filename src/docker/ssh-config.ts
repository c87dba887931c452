// A host's identity_file for Docker's own SSH connections (pure rendering).
//
// `docker --context <ssh-context>` and `docker compose` reach the host through docker/cli's ssh
// connection helper, which runs `ssh -o ConnectTimeout=30 -T -l <user> -p <port> -- <address>
// docker system dial-stdio` with `ssh` looked up in PATH, and takes no other options: neither the
// context nor an environment variable can add `-i`. So Berth writes an ssh config of its own (the
// identity per address, then the user's and the system's config) and a one-line `ssh` wrapper that
// uses it with `-F`; Docker commands run with the wrapper's directory first in PATH.
import { createHash } from 'node:crypto';
import { CONTROL_PERSIST } from './ssh.ts';
import { byText } from '../text-order.ts';

export interface SshIdentityEntry {
  /** Address as it appears in the context URL (what docker passes to ssh). */
  address: string;
  /** Absolute path, or ~/…, of the private key. */
  identityFile: string;
  /** Share Berth's own ControlMaster (only when ~/.ssh/config does not multiplex this host itself). */
  controlPath?: string;
}

const SAFE_ADDRESS = /^[A-Za-z0-9._-]+$/;
const SAFE_PATH = /^[^\x00-\x1f"]+$/;

export class UnsafeSshValue extends Error {}

/**
 * Berth's ssh config: one `Host` block per address with its identities (every IdentityFile is
 * tried, so two hosts on one address with different ports and keys both work), then the user's and
 * the system's config for everything else (first value wins in ssh_config, so the user's settings
 * still apply to anything Berth does not set).
 */
export function renderSshConfig(entries: SshIdentityEntry[], userConfig: string, systemConfig: string): string {
  const byAddress = new Map<string, SshIdentityEntry[]>();
  for (const e of entries) {
    if (!SAFE_ADDRESS.test(e.address)) throw new UnsafeSshValue(`SSH address ${JSON.stringify(e.address)} has characters an ssh config cannot hold`);
    if (!SAFE_PATH.test(e.identityFile)) throw new UnsafeSshValue(`identity_file ${JSON.stringify(e.identityFile)} has quotes or control characters`);
    byAddress.set(e.address, [...(byAddress.get(e.address) ?? []), e]);
  }
  const lines = ['# Written by Berth for Docker\'s ssh connections (see src/docker/ssh-config.ts). Do not edit: it is rewritten.'];
  for (const [address, es] of [...byAddress].sort(([a], [b]) => byText(a, b))) {
    lines.push(`Host ${address}`);
    for (const f of [...new Set(es.map((e) => e.identityFile))]) lines.push(`  IdentityFile "${f}"`);
    lines.push('  IdentitiesOnly yes');
    const cp = es.find((e) => e.controlPath)?.controlPath;
    if (cp) lines.push('  ControlMaster auto', `  ControlPath ${cp}`, `  ControlPersist ${CONTROL_PERSIST}`);
  }
  lines.push('Host *', `  Include "${userConfig}"`, `  Include "${systemConfig}"`);
  return lines.join('\n') + '\n';
}

/** The `ssh` Docker finds first in PATH: the real one with Berth's config. */
export function renderSshWrapper(realSsh: string, configFile: string): string {
  if (!SAFE_PATH.test(realSsh) || !SAFE_PATH.test(configFile)) throw new UnsafeSshValue('ssh wrapper paths have quotes or control characters');
  return `#!/bin/sh\n# Written by Berth: Docker's ssh helper takes no -i; this adds Berth's identities per host.\nexec "${realSsh}" -F "${configFile}" "$@"\n`;
}

/** Content-addressed name, so concurrent Berth runs with different hosts.json never overwrite each other's files. */
export const sshConfigId = (config: string) => createHash('sha256').update(config).digest('hex').slice(0, 12);

/** PATH with the wrapper's directory first (and no earlier Berth wrapper directory). */
export function pathWithWrapper(path: string | undefined, wrapperDir: string, wrapperRoot: string): string {
  const rest = (path ?? '').split(':').filter((d) => d && !d.startsWith(wrapperRoot));
  return [wrapperDir, ...rest].join(':');
}
