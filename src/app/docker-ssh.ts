// Hands each host's identity_file to Docker's own ssh connections (see src/docker/ssh-config.ts for
// why a wrapper is the only way): writes Berth's ssh config and wrapper under its state directory
// and puts the wrapper first in PATH for every process Berth starts from then on.
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { CONTROL_PATH } from '../docker/ssh.ts';
import { pathWithWrapper, renderSshConfig, renderSshWrapper, sshConfigId, type SshIdentityEntry, UnsafeSshValue } from '../docker/ssh-config.ts';
import { ConfigError } from '../errors.ts';
import type { HostHandle } from './host.ts';

export const berthStateDir = (env: NodeJS.ProcessEnv = process.env) =>
  env.BERTH_STATE_DIR ?? join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'berth');

const entries = new Map<string, SshIdentityEntry>();

/**
 * Berth's own SSH masters (when ~/.ssh/config does not multiplex a host) live in a directory only
 * this user can enter: whoever can reach a master's socket runs commands on the server as its
 * user. `<state dir>/ssh/cm`, created 700 or made 700. Undefined (then ~/.ssh/cm-berth-%C) when it
 * cannot be made private, is not this user's, or its path needs quoting or is too long for a
 * socket path with %C (40 hex characters) in it.
 */
export async function privateControlDir(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const dir = join(berthStateDir(env), 'ssh', 'cm');
  if (!isAbsolute(dir) || !/^[A-Za-z0-9._/-]+$/.test(dir) || dir.length + 41 > 100) return undefined;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const s = await lstat(dir);
    if (!s.isDirectory() || (process.getuid && s.uid !== process.getuid())) return undefined;
    if ((s.mode & 0o077) !== 0) await chmod(dir, 0o700);
    return dir;
  } catch {
    return undefined;
  }
}

function realSsh(path: string | undefined, wrapperRoot: string): string {
  for (const d of (path ?? '').split(delimiter)) {
    if (!d || d.startsWith(wrapperRoot)) continue;
    if (existsSync(join(d, 'ssh'))) return join(d, 'ssh');
  }
  return '/usr/bin/ssh';
}

async function writeAtomic(file: string, content: string, mode: number) {
  if (existsSync(file)) return; // content-addressed: same name, same content
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, file);
}

/** Register the host's identity (if it has one) and point Docker's ssh at it. Idempotent. */
export async function useIdentityForDocker(h: HostHandle, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = h.config.identity_file;
  if (!file) return;
  const identityFile = file.startsWith('~/') || isAbsolute(file) ? file : resolve(file);
  entries.set(h.name, { address: h.ssh.address, identityFile, controlPath: h.ssh.configMultiplexes ? undefined : (h.ssh.controlPath ?? CONTROL_PATH) });
  const root = join(berthStateDir(env), 'ssh');
  let config: string;
  try {
    config = renderSshConfig([...entries.values()], '~/.ssh/config', '/etc/ssh/ssh_config');
  } catch (e) {
    if (!(e instanceof UnsafeSshValue)) throw e;
    throw new ConfigError([{ file: 'hosts.json', path: `hosts.${h.name}`, expected: 'an address and identity_file an ssh config can hold', found: JSON.stringify(h.config), hint: e.message }]);
  }
  const id = sshConfigId(config);
  const dir = join(root, id);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomic(join(dir, 'config'), config, 0o600);
  await writeAtomic(join(dir, 'ssh'), renderSshWrapper(realSsh(env.PATH, root), join(dir, 'config')), 0o700);
  // Hosts deploying in parallel register while these writes are awaited: only the config holding
  // every host registered so far goes into PATH (an older, smaller one would lose a host's identity).
  if (sshConfigId(renderSshConfig([...entries.values()], '~/.ssh/config', '/etc/ssh/ssh_config')) !== id) return;
  env.PATH = pathWithWrapper(env.PATH, dir, root);
}
