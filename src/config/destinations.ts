// PURE destinations (Kamal's `-d staging`): `apps/<app>/app.<destination>.yml` beside app.yml holds
// overrides, deep-merged over app.yml into a second app named `<app>-<destination>`. Being its own
// app gives a destination its own compose project, releases, lock, secrets and backups on the host
// (every Docker-side and host-side name derives from the app name); the rules then check it like
// any other app (its domains, ports and Litestream replica must not be production's).

export const DESTINATION = /^[a-z][a-z0-9-]*$/;
const FILE = /^app\.([a-z][a-z0-9-]*)\.(yml|yaml|json)$/;

export const destinationAppName = (app: string, destination: string) => `${app}-${destination}`;

/** Override files among a folder's file names, sorted by destination ("config" is not one: app.config.ts). */
export function destinationFiles(names: readonly string[]): { destination: string; file: string }[] {
  return names
    .map((n) => ({ m: FILE.exec(n), file: n }))
    .filter((x) => x.m && x.m[1] !== 'config')
    .map((x) => ({ destination: x.m![1]!, file: x.file }))
    .sort((a, b) => (a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0));
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Mappings merge key by key; lists and scalars replace; `null` removes the key (e.g. `backup: null`). */
export function mergeOverride(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (!isObj(base) || !isObj(override)) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === null) delete out[k];
    else out[k] = mergeOverride(base[k], v);
  }
  return out;
}
