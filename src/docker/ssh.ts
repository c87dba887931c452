// SSH argv builders. Berth opens one multiplexed SSH connection per host (ControlMaster) and runs
// every host-side step through it; Docker's own ssh:// context helper reuses the same master when
// ~/.ssh/config sets the same ControlPath (see README, "SSH").
import type { HostConfig } from '../config/schema.ts';
import { type Cmd, read, shJoin, write } from './command.ts';

export interface SshTarget {
  user: string;
  address: string;
  port: number;
  identityFile?: string;
  /** ~/.ssh/config already multiplexes this host: use its ControlPath so Docker's context shares the master. */
  configMultiplexes?: boolean;
  /** Berth's own ControlPath (in a private directory, src/app/docker-ssh.ts), when ~/.ssh/config does not multiplex. */
  controlPath?: string;
}

export function parseSshTarget(host: Pick<HostConfig, 'ssh' | 'identity_file'>): SshTarget {
  const m = /^([^@]+)@([^:]+)(?::(\d+))?$/.exec(host.ssh);
  if (!m) throw new Error(`not an SSH target: ${host.ssh}`);
  return { user: m[1]!, address: m[2]!, port: m[3] ? Number(m[3]) : 22, identityFile: host.identity_file };
}

/** The ssh:// URL a Docker context uses for this host. */
export const dockerHostUrl = (t: SshTarget) => `ssh://${t.user}@${t.address}${t.port === 22 ? '' : `:${t.port}`}`;

/** Berth's ControlPath when its private directory cannot be had (src/app/docker-ssh.ts, privateControlDir). */
export const CONTROL_PATH = '~/.ssh/cm-berth-%C';
/** A master outlives the command that opened it this long: the next command reuses it (no handshake). */
export const CONTROL_PERSIST = '120s';

export function sshBaseArgv(t: SshTarget): string[] {
  const mux = t.configMultiplexes ? [] : ['-o', 'ControlMaster=auto', '-o', `ControlPath=${t.controlPath ?? CONTROL_PATH}`, '-o', `ControlPersist=${CONTROL_PERSIST}`];
  const argv = [
    'ssh',
    '-o', 'BatchMode=yes',
    ...mux,
    '-o', 'ConnectTimeout=15',
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-p', String(t.port),
  ];
  if (t.identityFile) argv.push('-i', t.identityFile, '-o', 'IdentitiesOnly=yes');
  argv.push(`${t.user}@${t.address}`);
  return argv;
}

/**
 * Run a shell script on the host. The script is the remote command (quoted once, as ssh hands a
 * single string to the remote shell); positional args follow as $1… so values are never spliced
 * into the script text.
 */
export function sshScript(t: SshTarget, script: string, args: string[] = [], opts: { mutates?: boolean; input?: string | Buffer; host?: string } = {}): Cmd {
  const remote = shJoin(['sh', '-c', script, 'berth', ...args]);
  const argv = [...sshBaseArgv(t), '--', remote];
  const extra = { input: opts.input, host: opts.host };
  return opts.mutates === false ? read(argv, extra) : write(argv, extra);
}

/**
 * Is the host reachable right now? A fresh connection (never the multiplexed master, which may be
 * the thing that died), short timeout. Asked only after a step failed.
 */
export function sshProbe(t: SshTarget): Cmd {
  const argv = ['ssh', '-o', 'BatchMode=yes', '-o', 'ControlMaster=no', '-o', 'ControlPath=none', '-o', 'ConnectTimeout=5', '-p', String(t.port)];
  if (t.identityFile) argv.push('-i', t.identityFile, '-o', 'IdentitiesOnly=yes');
  argv.push(`${t.user}@${t.address}`, 'true');
  return read(argv);
}

/** `ssh -G` prints the effective client config without connecting. */
export const sshEffectiveConfig = (t: SshTarget): Cmd => read(['ssh', '-G', '-p', String(t.port), `${t.user}@${t.address}`]);

export const configMultiplexes = (sshG: string) => {
  const m = /^controlpath (.+)$/m.exec(sshG);
  return !!m && m[1]!.trim() !== 'none' && /^controlmaster (auto|yes|autoask)$/m.test(sshG);
};
