// `npm run deploy app --dry-run` (the `--` forgotten): npm keeps --dry-run as ITS config, runs the
// script without it and leaves `npm_config_dry_run=true` in the environment. Berth must then do
// nothing and print the line the user meant. npm also exports npm_config_* from .npmrc files and
// from its own environment, so a value counts as swallowed only when neither explains it.
// npm rewrites its process title (flags dropped), so its argv cannot be read back; this is the
// reliable part of what it leaves: the environment, its config files and (Linux) its own environ.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CommandSpec, FlagSpecs } from './spec.ts';

export interface Swallowed {
  /** The flag's long name in the table. */
  flag: string;
  /** As the user probably typed it: --dry-run, -f, -d. */
  typed: string;
  /** The value npm kept, when it kept one (--release=v2, --to v1 read as --token-description v1). */
  value?: string;
}

/** Config keys npm exports for every script whatever the user typed: never evidence of a swallowed flag. */
const NPM_ALWAYS = new Set([
  'user_agent', 'noproxy', 'userconfig', 'local_prefix', 'globalconfig', 'global_prefix', 'cafile', 'cache', 'prefix', 'init_module', 'node_gyp',
  'nodedir', 'npm_version', 'update_notifier', 'allow_scripts', 'audit', 'fund', 'omit_lockfile_registry_resolved', 'loglevel', 'call',
]);

/** `dry-run`, `DRY_RUN`, `dry_run[]` → `dry_run`. */
export const npmKey = (name: string) => name.replace(/\[\]$/, '').replace(/-/g, '_').toLowerCase();

/**
 * True when npm started this very command: its script (`npm run deploy` runs deploy), or npm exec /
 * npx. Not when Berth merely runs under another npm script (tests under `npm test`), whose
 * npm_config_* say nothing about this command line.
 */
export const underNpm = (env: NodeJS.ProcessEnv, spec?: Pick<CommandSpec, 'name' | 'aliases'>) => {
  const event = env.npm_lifecycle_event;
  if (!env.npm_command || !event) return false;
  if (env.npm_command === 'exec') return event === 'npx';
  return !spec || event === spec.name || !!spec.aliases?.includes(event);
};

/**
 * PURE. The flags of `flags` that npm took for itself, judged from its npm_config_* variables,
 * minus the keys `configured` says came from an .npmrc file or npm's own environment.
 */
export function swallowedFlags(flags: FlagSpecs, env: NodeJS.ProcessEnv, configured: ReadonlySet<string>): Swallowed[] {
  if (!underNpm(env)) return [];
  const cli = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) {
    const m = /^npm_config_(.+)$/i.exec(k);
    if (m && v !== undefined && !configured.has(npmKey(m[1]!))) cli.set(npmKey(m[1]!), v);
  }
  const ours = new Set(Object.keys(flags).map(npmKey));
  const out: Swallowed[] = [];
  for (const [name, f] of Object.entries(flags)) {
    const key = npmKey(name);
    const exact = cli.get(key);
    if (exact !== undefined && !NPM_ALWAYS.has(key) && exact !== '') {
      out.push({ flag: name, typed: `--${name}`, ...(f.type === 'string' && exact !== 'true' ? { value: exact } : {}) });
      continue;
    }
    // --no-certs: npm stores certs = false ('').
    if (name.startsWith('no-') && cli.get(npmKey(name.slice(3))) === '') {
      out.push({ flag: name, typed: `--${name}` });
      continue;
    }
    // npm expands an unambiguous prefix of one of its own keys: --to v1 becomes --token-description v1.
    const longer = [...cli.keys()].filter((k) => k.startsWith(key) && k !== key && !ours.has(k) && !NPM_ALWAYS.has(k));
    if (longer.length === 1 && cli.get(longer[0]!) !== '') {
      const v = cli.get(longer[0]!)!;
      out.push({ flag: name, typed: `--${name}`, ...(f.type === 'string' && v !== 'true' ? { value: v } : {}) });
      continue;
    }
    // npm's own one-letter shorthands: -f is --force, -y --yes, -d --loglevel info; --verbose is --loglevel verbose.
    const level = cli.get('loglevel');
    if (f.short === 'f' && !('force' in flags) && cli.get('force') === 'true') out.push({ flag: name, typed: '-f' });
    else if (f.short === 'y' && !('yes' in flags) && cli.get('yes') === 'true') out.push({ flag: name, typed: '-y' });
    else if (f.short === 'd' && level === 'info') out.push({ flag: name, typed: '-d' });
    else if (name === 'verbose' && level === 'verbose') out.push({ flag: name, typed: '--verbose' });
  }
  return out;
}

/**
 * PURE. The line the user meant: npm's words, `--`, then what Berth received and the swallowed
 * flags. A string flag npm kept without its value left the value among the arguments: with one
 * such flag and one argument too many, that argument is its value; otherwise a placeholder.
 */
export function correctedLine(spec: CommandSpec, received: readonly string[], swallowed: readonly Swallowed[], env: NodeJS.ProcessEnv): string {
  const args = [...received];
  const max = spec.verbatimAfter ?? spec.positionals?.max ?? Infinity;
  const valueless = swallowed.filter((s) => spec.flags[s.flag]?.type === 'string' && s.value === undefined);
  const extra = args.length - max;
  const words = swallowed.map((s) => {
    const f = spec.flags[s.flag]!;
    if (f.type === 'boolean') return s.typed;
    if (s.value !== undefined) return `${s.typed} ${quoteWord(s.value)}`;
    if (valueless.length === 1 && extra === 1) return `${s.typed} ${quoteWord(args.pop()!)}`;
    return `${s.typed} ${f.value ?? '<value>'}`;
  });
  const rest = [...args.map(quoteWord), ...words].join(' ');
  if (env.npm_command === 'exec') return `npx berth ${spec.name} ${rest}`.trimEnd();
  const silent = env.npm_config_loglevel === 'silent' ? ' -s' : '';
  return `npm run${silent} ${env.npm_lifecycle_event ?? spec.name} -- ${rest}`.trimEnd();
}

const quoteWord = (w: string) => (/^[A-Za-z0-9_@%+=:,./<>…-]+$/.test(w) ? w : `'${w.replace(/'/g, `'"'"'`)}'`);

/** The one-line refusal. */
export function swallowedMessage(swallowed: readonly Swallowed[], line: string): string {
  const list = swallowed.map((s) => s.typed).join(', ');
  return `npm took ${list} for itself (flags before "--" go to npm, not to Berth), so nothing was done; run: ${line}`;
}

// ---------------------------------------------------------------- what npm read from elsewhere

/** INI keys of an .npmrc file, normalised. */
export function npmrcKeys(text: string): string[] {
  const keys: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([^=;#\s][^=]*?)\s*=/.exec(line);
    if (m) keys.push(npmKey(m[1]!.replace(/^["']|["']$/g, '')));
  }
  return keys;
}

/** The environment npm itself started with (Linux /proc), or undefined when it cannot be read. */
function npmEnviron(): NodeJS.ProcessEnv | undefined {
  let pid = process.ppid;
  for (let i = 0; i < 4 && pid > 1; i++) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (/^npm( |\0|$)|npm-cli\.js|npx-cli\.js/.test(title)) {
        const env: NodeJS.ProcessEnv = {};
        for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
          const at = kv.indexOf('=');
          if (at > 0) env[kv.slice(0, at)] = kv.slice(at + 1);
        }
        return env;
      }
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Config keys npm got from its config files or its own environment (so not from its command line). */
export function npmConfigured(env: NodeJS.ProcessEnv): Set<string> {
  const keys = new Set<string>();
  const files = [
    env.npm_config_globalconfig,
    env.npm_config_userconfig,
    env.npm_config_local_prefix && join(env.npm_config_local_prefix, '.npmrc'),
    env.npm_execpath && join(dirname(dirname(env.npm_execpath)), 'npmrc'),
  ];
  for (const f of files) {
    if (!f || !existsSync(f)) continue;
    try {
      for (const k of npmrcKeys(readFileSync(f, 'utf8'))) keys.add(k);
    } catch {
      /* unreadable: npm could not have read it either */
    }
  }
  for (const k of Object.keys(npmEnviron() ?? {})) {
    const m = /^npm_config_(.+)$/i.exec(k);
    if (m) keys.add(npmKey(m[1]!));
  }
  return keys;
}

/** The refusal for this run, or undefined when npm swallowed none of the command's flags. */
export function detectSwallowed(spec: CommandSpec, received: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  if (!underNpm(env, spec)) return undefined;
  // Cheap first pass without reading any file: most runs have no candidate at all.
  if (!swallowedFlags(spec.flags, env, new Set()).length) return undefined;
  const found = swallowedFlags(spec.flags, env, npmConfigured(env));
  return found.length ? swallowedMessage(found, correctedLine(spec, received, found, env)) : undefined;
}
