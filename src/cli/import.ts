// Handler of `import kamal <config/deploy.yml> [--secrets <.kamal/secrets>] [--name <app>] [--force] [--json]`.
import { UsageError } from '../errors.ts';
import { formatNotes } from '../import/kamal.ts';
import { importKamalFiles } from '../import/kamal-files.ts';
import { createLogger } from '../log/logger.ts';
import { commandLine } from './help.ts';
import { projectRoot } from './root.ts';
import type { CommandArgs } from './spec.ts';

export async function importCli({ values, positionals, usage, form }: CommandArgs<{ secrets?: string; name?: string; force?: boolean }>) {
  const log = createLogger({ verbose: !!values.verbose, json: !!values.json });
  const [from, deployPath] = positionals as [string, string];
  if (from !== 'kamal') throw new UsageError(`unknown source ${JSON.stringify(from)} (only kamal)`, usage);
  const r = await importKamalFiles(projectRoot(), { deployPath, secretsPath: values.secrets, name: values.name, force: values.force });
  if (values.json) return void log.output(JSON.stringify({ name: r.name, appFile: r.appFile, newHosts: r.newHosts, notes: r.notes }, null, 2));
  log.output(
    [
      `wrote ${r.appFile}${Object.keys(r.newHosts).length ? ` and hosts.json entries ${Object.keys(r.newHosts).join(', ')}` : ''} (the project validates)`,
      formatNotes(r.notes),
      `next: ${commandLine(form, 'plan', r.name)}`,
    ].join('\n'),
  );
}
