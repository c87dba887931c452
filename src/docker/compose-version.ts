// The Compose CLI on THIS machine: Berth runs `docker compose` here, through each host's SSH
// context, so its version matters as much as the host's. Read once per `setup` through the npm
// `docker-compose` package (its ~500 ms pause per call is fine for a one-off check, not for the
// deploy path, which keeps argv data through the runner; see docs/design.md). This is the one
// module that imports the package: its plain-object rejections become real Errors here. Imported
// when called, so other commands do not load it at start-up.

export async function localComposeVersion(executablePath?: string): Promise<string> {
  try {
    const { version } = await import('docker-compose');
    const r = await version(executablePath ? { executable: { executablePath }, log: false } : { log: false });
    const v = r.data?.version?.replace(/^v/, '');
    if (!v) throw new Error(`unexpected output: ${(r.out || r.err).trim().slice(0, 200)}`);
    return v;
  } catch (e) {
    if (e instanceof Error) throw e;
    const o = e as { exitCode?: number | null; err?: string; out?: string; message?: string };
    const why = (o.err || o.out || o.message || 'no output').trim().split('\n').pop();
    throw new Error(`docker compose version failed on this machine (exit ${o.exitCode ?? '?'}): ${why}`);
  }
}
