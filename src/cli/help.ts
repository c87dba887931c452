// PURE: the text of `berth help`, `berth <command> --help` and the one-line usage a UsageError
// carries, all from the command table, in the form the user typed (`berth …` or `npm run … --`).
import { PLAIN, type Paint } from '../log/colour.ts';
import { GROUPS, HELP_FLAG, type CommandSpec, type FlagSpec } from './spec.ts';

/** How Berth was started: the `berth` bin (or the launcher), or an npm script. */
export type Form = 'berth' | 'npm';

/**
 * 'npm' only when npm runs this command's own script (`npm run deploy`), not when Berth merely runs
 * under some npm script (the tests under `npm run test:e2e` start the launcher directly).
 */
export function formOf(env: NodeJS.ProcessEnv, spec?: Pick<CommandSpec, 'name' | 'aliases'>): Form {
  const event = env.npm_lifecycle_event;
  const ours = !!event && (spec ? event === spec.name || !!spec.aliases?.includes(event) : true);
  return ours && (env.npm_command === 'run' || env.npm_command === 'run-script') ? 'npm' : 'berth';
}

/** `berth deploy <rest>` → `npm run deploy -- <rest>` (npm run -s … when piped, so npm's banner stays off stdout). */
export function commandLine(form: Form, command: string, rest: string, piped = false): string {
  if (form === 'berth') return `berth ${command}${rest ? ` ${rest}` : ''}`;
  return `npm run${piped ? ' -s' : ''} ${command}${rest ? ` -- ${rest}` : ''}`;
}

/** Every `berth <cmd> …` in an example line in the other form. */
export function exampleIn(form: Form, line: string): string {
  if (form === 'berth') return line;
  return line.replace(/\bberth ([a-z_][a-z0-9_:-]*)((?: (?:'[^']*'|"[^"]*"|[^|&;'" ]+))*)/g, (_m, cmd: string, rest: string) =>
    commandLine('npm', cmd, rest.trim(), /\|/.test(line)),
  );
}

const flagWords = (name: string, f: FlagSpec) => `--${name}${f.type === 'string' ? ` ${f.value ?? '<value>'}` : ''}`;

/** The one-line usage: `usage: berth deploy <app> [--release <tag>] … [--json]`. */
export function usageLine(spec: CommandSpec, form: Form): string {
  const flags = Object.entries(spec.flags).map(([n, f]) => `[${flagWords(n, f)}]`);
  return `usage: ${commandLine(form, spec.name, [spec.args, ...flags].filter(Boolean).join(' '))}`;
}

/** `berth <command> --help`: summary, usage in both forms, details, every flag, examples, exit codes. */
export function commandHelp(spec: CommandSpec, form: Form, p: Paint = PLAIN): string {
  const flags = Object.entries({ ...spec.flags, ...HELP_FLAG } as Record<string, FlagSpec>);
  const label = (n: string, f: FlagSpec) => `${f.short ? `-${f.short}, ` : '    '}${flagWords(n, f)}`;
  const width = Math.max(...flags.map(([n, f]) => label(n, f).length));
  const args = spec.args ? `${spec.args} ` : '';
  const usages = (form === 'berth' ? (['berth', 'npm'] as const) : (['npm', 'berth'] as const)).map((f) => commandLine(f, spec.name, `${args}[flags]`));
  return [
    `${p.bold(`berth ${spec.name}`)} — ${spec.summary}`,
    '',
    `usage: ${usages[0]}`,
    `       ${usages[1]}`,
    ...(spec.details ? ['', spec.details] : []),
    '',
    p.bold('flags:'),
    ...flags.map(([n, f]) => `  ${label(n, f).padEnd(width)}  ${f.help}`),
    '',
    p.bold('examples:'),
    ...spec.examples.map((e) => `  ${exampleIn(form, e)}`),
    '',
    `exit codes: 0 ok, 1 failed, 2 usage (a bad flag, or a host, role, app or destination that does not exist), 3 red or drift`,
  ].join('\n');
}

/** `berth help`: the commands by group, one line each. */
export function generalHelp(commands: readonly CommandSpec[], form: Form, p: Paint = PLAIN): string {
  const shown = commands.filter((c) => !c.hidden);
  const width = Math.max(...shown.map((c) => c.name.length));
  const lines = [
    `${p.bold('Berth')} — deploy web apps to Linux servers with plain Docker Compose over SSH.`,
    '',
    `usage: berth <command> [args] [flags]`,
    `       npm run <command> -- [args] [flags]   (from a Berth checkout; npm run -s when piping --json)`,
  ];
  for (const g of GROUPS) {
    const inGroup = shown.filter((c) => c.group === g);
    if (!inGroup.length) continue;
    lines.push('', p.bold(g));
    for (const c of inGroup) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  }
  lines.push(
    '',
    `${form === 'npm' ? 'npm run <command> -- --help' : 'berth <command> --help'} explains every flag, with examples.`,
    'The project is $BERTH_ROOT, else the nearest folder (this one or a parent) holding hosts.json or apps/.',
    'Exit codes: 0 ok, 1 failed, 2 usage (a bad flag, or a host, role, app or destination that does not exist), 3 red or drift.',
  );
  return lines.join('\n');
}
