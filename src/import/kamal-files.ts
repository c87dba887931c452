// The file side of `npm run import -- kamal`: read deploy.yml, .kamal/secrets and .kamal/hooks/,
// map them (pure, kamal.ts), write apps/<name>/app.yml and the new hosts.json entries, then validate
// the whole project. When validation fails, both files are put back as they were.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { LineCounter, parseDocument, stringify } from 'yaml';
import { HOSTS_FILE, loadProject } from '../config/load.ts';
import { ConfigError } from '../errors.ts';
import { formatNotes, importKamal, importKamalDestination, type ImportNote, type KamalImport, type KamalImportInput, mergeKamal } from './kamal.ts';
import { resolveErb, tokeniseErb } from './kamal-erb.ts';
import { DESTINATION } from '../config/destinations.ts';

export interface ImportFilesOptions {
  deployPath: string;
  secretsPath?: string;
  name?: string;
  force?: boolean;
}

export interface ImportFilesResult extends KamalImport {
  appFile: string;
  /** Destinations written as apps/<name>/app.<destination>.yml. */
  destinations: string[];
}

const posix = (p: string) => p.split(sep).join('/') || '.';

export async function importKamalFiles(root: string, opts: ImportFilesOptions): Promise<ImportFilesResult> {
  root = resolve(root);
  const deployPath = resolve(opts.deployPath);
  const shown = posix(relative(process.cwd(), deployPath));
  if (!existsSync(deployPath)) throw new ConfigError([{ file: shown, path: '', expected: 'a Kamal config/deploy.yml', found: 'nothing', hint: 'pass the path of config/deploy.yml' }]);
  // Kamal renders ERB before reading the YAML: the ENV forms are handled (kamal-erb.ts), other Ruby named by line.
  const erbNotes: ImportNote[] = [];
  const readYaml = (path: string, file: string) => {
    const erb = tokeniseErb(readFileSync(path, 'utf8'), file);
    if (erb.issues.length) throw new ConfigError(erb.issues);
    const lc = new LineCounter();
    const doc = parseDocument(erb.text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
    if (doc.errors[0]) {
      const pos = lc.linePos(doc.errors[0].pos[0]);
      throw new ConfigError([{ file, path: '', expected: 'valid YAML', found: `a syntax error (${doc.errors[0].message.split('\n')[0]})`, line: pos.line, column: pos.col }]);
    }
    const r = resolveErb(doc.toJS(), erb.uses, process.env, file);
    if (r.issues.length) throw new ConfigError(r.issues);
    erbNotes.push(...r.notes.map((n) => ({ key: `${file}: ${n.key}`, status: n.status, text: n.text })));
    return r.value;
  };
  const deploy = readYaml(deployPath, shown);
  // config/deploy.yml lives one level below the Kamal project root (where .kamal/ and the Dockerfile are).
  const kamalRoot = basename(dirname(deployPath)) === 'config' ? dirname(dirname(deployPath)) : dirname(deployPath);
  const hooksDir = join(kamalRoot, typeof (deploy as { hooks_path?: unknown })?.hooks_path === 'string' ? (deploy as { hooks_path: string }).hooks_path : '.kamal/hooks');
  const hooks: Record<string, string> = {};
  if (existsSync(hooksDir) && statSync(hooksDir).isDirectory()) {
    for (const f of readdirSync(hooksDir).sort()) {
      const p = join(hooksDir, f);
      if (statSync(p).isFile()) hooks[f] = readFileSync(p, 'utf8');
    }
  }
  const secretsPath = opts.secretsPath ? resolve(opts.secretsPath) : join(kamalRoot, '.kamal', 'secrets');
  if (opts.secretsPath && !existsSync(secretsPath)) throw new ConfigError([{ file: opts.secretsPath, path: '', expected: 'a Kamal secrets file', found: 'nothing', hint: 'fix --secrets' }]);
  const secrets = existsSync(secretsPath) ? { file: posix(relative(process.cwd(), secretsPath)), text: readFileSync(secretsPath, 'utf8') } : undefined;

  const hostsPath = join(root, process.env.BERTH_HOSTS_FILE || HOSTS_FILE);
  const hostsBefore = existsSync(hostsPath) ? readFileSync(hostsPath, 'utf8') : undefined;
  let hostsDoc: { hosts?: Record<string, { ssh: string }> } & Record<string, unknown> = {};
  if (hostsBefore?.trim()) {
    try {
      hostsDoc = JSON.parse(hostsBefore);
    } catch (e) {
      throw new ConfigError([{ file: HOSTS_FILE, path: '', expected: 'valid JSON', found: `a syntax error (${(e as Error).message})`, hint: 'fix hosts.json before importing' }]);
    }
  }

  const input: KamalImportInput = {
    deploy,
    deployFile: shown,
    name: opts.name,
    secrets,
    hooks,
    hooksPath: posix(relative(kamalRoot, hooksDir)),
    kamalRootFromApp: (name) => posix(relative(join(root, 'apps', name), kamalRoot)),
    existingHosts: hostsDoc.hosts ?? {},
    fileExists: (p) => existsSync(resolve(kamalRoot, p)),
  };
  // Kamal destinations beside deploy.yml: config/deploy.<destination>.yml → app.<destination>.yml.
  const base = basename(deployPath).replace(/\.ya?ml$/, '');
  const destFiles = readdirSync(dirname(deployPath))
    .map((f) => ({ f, m: new RegExp(`^${base}\\.([^.]+)\\.ya?ml$`).exec(f) }))
    .filter((x) => x.m)
    .sort((a, b) => (a.f < b.f ? -1 : 1))
    .map(({ f, m }) => {
      const dest = m![1]!;
      const file = posix(relative(process.cwd(), join(dirname(deployPath), f)));
      if (!DESTINATION.test(dest)) throw new ConfigError([{ file, path: '', expected: 'a destination name of lowercase letters, digits and "-"', found: JSON.stringify(dest), hint: 'rename the file' }]);
      return { dest, file, deploy: readYaml(join(dirname(deployPath), f), file) };
    });
  // Servers only in destination files (Kamal's require_destination): app.yml becomes one destination
  // (production when there is one), the others its overrides.
  const main = hasServers(deploy) ? undefined : (destFiles.find((d) => d.dest === 'production' && hasServers(d.deploy)) ?? destFiles.find((d) => hasServers(d.deploy)));
  const result = importKamal(main ? { ...input, deploy: mergeKamal(deploy, main.deploy) } : input);
  if (main) {
    result.notes.unshift({
      key: 'servers', status: 'mapped',
      text: `${shown} names no servers (each destination does): apps/${result.name}/app.yml is destination ${main.dest} (${main.file} merged over ${shown}); ${destFiles.filter((d) => d !== main).map((d) => `-d ${d.dest}`).join(', ') || 'no other destination'} deploy${destFiles.length > 2 ? '' : 's'} the others`,
    });
  }
  result.notes.unshift(...erbNotes.splice(0));
  const destinations = destFiles.filter((d) => d !== main).map((d) => ({ dest: d.dest, ...importKamalDestination(input, result, d.dest, d.deploy, d.file) }));
  for (const d of destinations) {
    Object.assign(result.newHosts, d.newHosts);
    for (const [hn, ip] of Object.entries(d.privateIps)) {
      if (result.newHosts[hn]) result.newHosts[hn]!.private_ip ??= ip;
      else result.privateIps[hn] ??= ip;
    }
    result.notes.push(...d.notes);
  }
  const appDir = join(root, 'apps', result.name);
  const appFile = posix(relative(root, join(appDir, 'app.yml')));
  if (existsSync(appDir) && !opts.force) {
    throw new ConfigError([{ file: `apps/${result.name}/`, path: '', expected: 'an app folder that does not exist yet', found: 'an existing folder', hint: `pass --force to overwrite apps/${result.name}/app.yml, or --name <another>` }]);
  }
  const appBefore = existsSync(join(appDir, 'app.yml')) ? readFileSync(join(appDir, 'app.yml'), 'utf8') : undefined;
  const hadDir = existsSync(appDir);
  const destBefore: Record<string, string | undefined> = Object.fromEntries(
    destinations.map((d) => [d.dest, existsSync(join(appDir, `app.${d.dest}.yml`)) ? readFileSync(join(appDir, `app.${d.dest}.yml`), 'utf8') : undefined]),
  );

  const header = [
    `# Imported from ${shown} by \`npm run import -- kamal\`. Review the notes, then \`npm run plan -- ${result.name}\`.`,
    ...formatNotes(result.notes).split('\n').filter(Boolean).map((l) => `#   ${l}`),
  ].join('\n');
  mkdirSync(appDir, { recursive: true });
  writeFileSync(join(appDir, 'app.yml'), `${header}\n${stringify(result.app, { lineWidth: 0 })}`);
  for (const d of destinations) {
    writeFileSync(join(appDir, `app.${d.dest}.yml`), `# Destination ${d.dest}, imported from ${posix(relative(process.cwd(), deployPath)).replace(/\.ya?ml$/, '')}.${d.dest}.yml: merged over app.yml (npm run deploy -- ${result.name} -d ${d.dest}).\n${stringify(d.override, { lineWidth: 0 })}`);
  }
  // Hosts already listed get only a private_ip they lack (an accessory is reached across hosts there).
  const updated = Object.entries(result.privateIps).filter(([hn]) => hostsDoc.hosts?.[hn] && !(hostsDoc.hosts[hn] as { private_ip?: string }).private_ip);
  if (Object.keys(result.newHosts).length || updated.length) {
    hostsDoc.hosts = { ...(hostsDoc.hosts ?? {}), ...result.newHosts };
    for (const [hn, ip] of updated) hostsDoc.hosts[hn] = { ...hostsDoc.hosts[hn]!, private_ip: ip } as { ssh: string };
    writeFileSync(hostsPath, JSON.stringify(hostsDoc, null, 2) + '\n');
  }
  try {
    await loadProject(root);
  } catch (e) {
    // Put everything back: a failed import changes nothing.
    if (appBefore !== undefined) writeFileSync(join(appDir, 'app.yml'), appBefore);
    else if (!hadDir) rmSync(appDir, { recursive: true, force: true });
    else rmSync(join(appDir, 'app.yml'), { force: true });
    for (const d of destinations) if (destBefore[d.dest] !== undefined) writeFileSync(join(appDir, `app.${d.dest}.yml`), destBefore[d.dest]!);
    else rmSync(join(appDir, `app.${d.dest}.yml`), { force: true });
    if (hostsBefore !== undefined) writeFileSync(hostsPath, hostsBefore);
    else rmSync(hostsPath, { force: true });
    throw e;
  }
  return { ...result, appFile, destinations: destinations.map((d) => d.dest) };
}

/** Does a parsed deploy file name at least one server (a list, or a role with hosts)? */
function hasServers(d: unknown): boolean {
  const servers = (d as { servers?: unknown } | null)?.servers;
  if (Array.isArray(servers)) return servers.length > 0;
  if (!servers || typeof servers !== 'object') return false;
  return Object.values(servers).some((r) => (Array.isArray(r) ? r.length > 0 : !!r && typeof r === 'object' && !!(r as { hosts?: unknown }).hosts));
}
