// Upload a rendered release and host-only files to a host as ONE tar stream over SSH (tar-fs packs
// the rendered directory; in-memory entries such as the secrets file are appended to the same
// stream, so secret values never touch the operator's disk nor any argv).
import type { Readable } from 'node:stream';
import tarFs from 'tar-fs';

export interface MemoryEntry {
  /** Absolute path on the host. */
  path: string;
  content?: string;
  /** Octal mode; directories are created with this mode (e.g. 0o700 for secrets). */
  mode: number;
  type?: 'file' | 'directory';
}

const rel = (abs: string) => abs.replace(/^\/+/, '');

/**
 * Pack `localDir` so that it extracts at `remoteDir` (absolute) on the host, followed by `extra`
 * entries. Only `remoteDir` itself and what is below it are written from `localDir`: parent
 * directories are never in the stream, so extraction at / cannot change their modes.
 */
export function packUpload(localDir: string | undefined, remoteDir: string | undefined, extra: MemoryEntry[]): Readable {
  const appendExtra = (pack: any) => {
    for (const e of extra) {
      if (e.type === 'directory') pack.entry({ name: rel(e.path), type: 'directory', mode: e.mode, uid: 0, gid: 0 });
      else pack.entry({ name: rel(e.path), mode: e.mode, uid: 0, gid: 0 }, e.content ?? '');
    }
    pack.finalize();
  };
  if (!localDir || !remoteDir) {
    // Nothing on disk to send: a bare tar-stream pack with only the in-memory entries.
    const pack = tarFs.pack('/nonexistent-berth', { entries: [], finalize: false, finish: appendExtra } as any);
    return pack as unknown as Readable;
  }
  return tarFs.pack(localDir, {
    finalize: false,
    finish: appendExtra,
    map: (header: { name: string; uid: number; gid: number }) => {
      header.name = header.name === '.' || header.name === '' ? rel(remoteDir) : `${rel(remoteDir)}/${header.name}`;
      header.uid = 0;
      header.gid = 0;
      return header;
    },
  } as any) as unknown as Readable;
}
