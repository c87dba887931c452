// Handlers of `maintenance <app> [--message …]` and `live <app>` (Kamal's `app maintenance` /
// `app live`), and of `lego:providers` (flags, help and examples: src/cli/table.ts).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { live, maintenance, type MaintenanceOutcome } from '../app/maintenance.ts';
import { formatLegoTable, LEGO, type LegoTable, parseProviderToml } from '../config/lego-table.ts';
import { UsageError } from '../errors.ts';
import { REPO_ROOT } from '../sandbox/paths.ts';
import { createDeps } from './deps.ts';
import type { CommandArgs } from './spec.ts';
import { hostFilterOf, targetApp } from './targeting.ts';

interface Targeting {
  hosts?: string;
  roles?: string;
  destination?: string;
}

/** A message shown on the page and kept in history: one line of printable text. */
export function checkMessage(message: string | undefined, usage: string): string | undefined {
  if (message === undefined) return undefined;
  if (!message.trim() || message.length > 500 || /[\u0000-\u001f\u007f]/.test(message)) {
    throw new UsageError(`--message takes one line of text (1–500 characters, no control characters), got ${JSON.stringify(message.slice(0, 60))}`, usage);
  }
  return message;
}

const report = (out: MaintenanceOutcome[]) =>
  out
    .map((o) => `${o.host}: ${o.result === 'noop' ? (o.mode === 'live' ? 'was not in maintenance' : 'unchanged') : o.mode === 'live' ? 'live' : `in maintenance (${o.page})`}${o.switchMs !== undefined ? `, confirmed in ${o.switchMs} ms` : ''}`)
    .join('\n');

export async function maintenanceCli({ values, positionals, usage, main }: CommandArgs<{ message?: string } & Targeting>) {
  const message = checkMessage(values.message, usage);
  const only = hostFilterOf(values, usage);
  const deps = createDeps(values);
  main.secrets = () => deps.log.secrets();
  const out = await maintenance(deps, { app: targetApp(deps.root, positionals[0]!, values.destination, usage), message, only });
  deps.log.output(values.json ? JSON.stringify(out, null, 2) : report(out));
}

export async function liveCli({ values, positionals, usage, main }: CommandArgs<Targeting>) {
  const only = hostFilterOf(values, usage);
  const deps = createDeps(values);
  main.secrets = () => deps.log.secrets();
  const out = await live(deps, { app: targetApp(deps.root, positionals[0]!, values.destination, usage), only });
  deps.log.output(values.json ? JSON.stringify(out, null, 2) : report(out));
}

const git = async (repo: string, args: string[]) => (await promisify(execFile)('git', ['-C', repo, ...args], { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' })).stdout;

/** Regenerate src/config/lego-dns-providers.json from lego's providers/dns/*\/*.toml at a tag of a lego git repository. */
export async function legoProvidersCli({ values, positionals, usage }: CommandArgs<{ traefik?: string }>) {
  const [repo, tag] = positionals as [string, string];
  if (!/^v\d+\.\d+\.\d+$/.test(tag)) throw new UsageError(`<tag> is a lego release such as v4.35.2, got ${JSON.stringify(tag)}`, usage);
  const files = (await git(repo, ['ls-tree', '-r', '--name-only', tag, 'providers/dns'])).split('\n').filter((f) => /^providers\/dns\/[^/]+\/[^/]+\.toml$/.test(f));
  const providers: LegoTable['providers'] = {};
  for (const f of files) {
    const parsed = parseProviderToml(await git(repo, ['show', `${tag}:${f}`]));
    if (parsed) providers[parsed.code] = parsed.provider;
  }
  const table: LegoTable = { lego: tag, traefik: values.traefik ?? LEGO.traefik, source: 'github.com/go-acme/lego providers/dns/*/*.toml', providers };
  writeFileSync(join(REPO_ROOT, 'src', 'config', 'lego-dns-providers.json'), formatLegoTable(table));
  console.log(`wrote ${Object.keys(providers).length} providers of lego ${tag} to src/config/lego-dns-providers.json`);
}
