// The shape of one entry of the command table (src/cli/table.ts): what the parser, `berth help`,
// `<command> --help` and shell completion all read. Light on purpose: no command code is imported
// here, so the table loads in a few milliseconds and each handler is imported only when it runs.
import type { MainOptions } from './main.ts';

/** What a shell can complete for an argument or a flag's value. */
export type Completion = 'app' | 'host' | 'hosts' | 'role' | 'roles' | 'destination' | 'alias' | 'file' | 'command' | 'key' | readonly string[];

export interface FlagSpec {
  type: 'boolean' | 'string';
  short?: string;
  /** Placeholder of the value in help and usage ("<tag>", "<duration>"); string flags only. */
  value?: string;
  /** One line: what the flag does. */
  help: string;
  complete?: Completion;
}

export type FlagSpecs = Record<string, FlagSpec>;

/** The order `berth help` lists the groups in. */
export const GROUPS = ['Start', 'Deploy', 'Inspect', 'Run in containers', 'Data', 'Project', 'Sandbox and development'] as const;
export type Group = (typeof GROUPS)[number];

/** The values parseArgs returns for a set of flags: booleans and strings, absent when not given. */
export type FlagValues<F extends FlagSpecs> = { [K in keyof F]?: F[K]['type'] extends 'boolean' ? boolean : string };

/** What a handler gets: parsed flags, its positionals (and, for exec-like commands, the verbatim rest). */
export interface CommandArgs<V = Record<string, string | boolean | undefined>> {
  values: V & { verbose?: boolean; json?: boolean; help?: boolean };
  positionals: string[];
  /** Everything after the last positional of `verbatimAfter` (exec's command), untouched. */
  rest: string[];
  /** The command's usage line as the user invoked it (berth … or npm run …), for UsageErrors. */
  usage: string;
  /** The top-level handler's options: a handler registers its secrets for redaction here. */
  main: MainOptions;
  /** The whole command table (help and completion read it; passed in, so no handler imports the table). */
  table: readonly CommandSpec[];
  /** How the user started Berth: `berth …` or `npm run …`. */
  form: 'berth' | 'npm';
}

export interface CommandSpec<F extends FlagSpecs = FlagSpecs> {
  /** As typed: `berth backup:status`, `npm run backup:status`. */
  name: string;
  /** Other names that reach it (the launcher's old script names: backup-status). */
  aliases?: readonly string[];
  group: Group;
  /** One line for `berth help`. */
  summary: string;
  /** The positional part of the usage line: "<app>", "[<app>…]", "status|release <app>". */
  args?: string;
  /** Bounds on positional arguments (before `verbatimAfter` cuts). */
  positionals?: { min?: number; max?: number; complete?: readonly Completion[] };
  /** After this many positionals, the rest is the command's own argv, passed as is (exec). */
  verbatimAfter?: number;
  /** More text for `--help`, after the summary. */
  details?: string;
  flags: F;
  /** Whole command lines in the `berth` form; `--help` shows them (npm form when run through npm). */
  examples: readonly string[];
  /** Not listed by `berth help` or completion (internal helpers). */
  hidden?: boolean;
  run(args: CommandArgs<FlagValues<F>>): Promise<number | void>;
}

/** Keeps each entry's flag types, so its `run` sees typed values. */
export const defineCommand = <const F extends FlagSpecs>(spec: CommandSpec<F>): CommandSpec => spec as unknown as CommandSpec;

// Flags many commands share.
export const VERBOSE = { verbose: { type: 'boolean', short: 'v', help: 'show every command Berth runs, and stack traces on errors' } } as const;
export const JSON_OUT = { json: { type: 'boolean', help: 'print the result as JSON on stdout (progress stays on stderr): berth … --json | jq' } } as const;
export const COMMON = { ...VERBOSE, ...JSON_OUT } as const;
export const TARGETING = {
  hosts: { type: 'string', value: '<h1,h2>', help: "only these of the app's hosts (names from hosts.json)", complete: 'hosts' },
  roles: { type: 'string', value: '<web,…>', help: "only the app's hosts with these roles", complete: 'roles' },
  destination: { type: 'string', short: 'd', value: '<name>', help: 'the destination: apps/<app>/app.<name>.yml merged over app.yml (e.g. staging)', complete: 'destination' },
} as const;
/** Every command answers --help; the parser adds it. */
export const HELP_FLAG = { help: { type: 'boolean', short: 'h', help: 'show this help' } } as const;
