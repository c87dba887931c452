// Handler of `help [<command>]`: the command list by group, or one command's full help.
import { UsageError } from '../errors.ts';
import { paintFor } from '../log/colour.ts';
import { commandHelp, generalHelp } from './help.ts';
import type { CommandArgs } from './spec.ts';

export async function helpCli({ positionals, table, form, usage }: CommandArgs) {
  const paint = paintFor(process.stdout);
  const name = positionals[0];
  if (name === undefined) return void process.stdout.write(`${generalHelp(table, form, paint)}\n`);
  const spec = table.find((c) => c.name === name || c.aliases?.includes(name));
  if (!spec) throw new UsageError(`unknown command ${JSON.stringify(name)} (berth help lists them)`, usage);
  process.stdout.write(`${commandHelp(spec, form, paint)}\n`);
}
