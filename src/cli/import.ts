// `npm run import -- kamal <config/deploy.yml> [--secrets <.kamal/secrets>] [--name <app>] [--force] [--json]`
import { UsageError } from '../errors.ts';
import { formatNotes } from '../import/kamal.ts';
import { importKamalFiles } from '../import/kamal-files.ts';
import { createLogger } from '../log/logger.ts';
import { common, parseFlags, usage } from './args.ts';
import { main, type MainOptions } from './main.ts';

const U = `usage: npm run import -- kamal <config/deploy.yml> [--secrets <.kamal/secrets>] [--name <app>] [--force] [--json]
  Writes apps/<name>/app.yml and the new hosts.json entries from a Kamal 2 config, then validates the project.
  Secret values are never copied: commands become secret_commands, literals are listed for you to export.`;

export function importCli(argv: string[]) {
  const run: MainOptions = {};
  return main(async () => {
    const { values, positionals } = parseFlags(argv, { ...common, secrets: { type: 'string' }, name: { type: 'string' }, force: { type: 'boolean' } }, U, { max: 2 });
    usage(U, values);
    run.verbose = values.verbose;
    const log = createLogger({ verbose: !!values.verbose, json: !!values.json });
    const [from, deployPath] = positionals;
    if (from !== 'kamal') throw new UsageError(from ? `unknown source ${JSON.stringify(from)} (only kamal)` : 'missing kamal', U);
    if (!deployPath) throw new UsageError('missing <config/deploy.yml>', U);
    const root = process.env.BERTH_ROOT ?? process.cwd();
    const r = await importKamalFiles(root, { deployPath, secretsPath: values.secrets, name: values.name, force: values.force });
    if (values.json) return void log.output(JSON.stringify({ name: r.name, appFile: r.appFile, newHosts: r.newHosts, notes: r.notes }, null, 2));
    log.output(
      [
        `wrote ${r.appFile}${Object.keys(r.newHosts).length ? ` and hosts.json entries ${Object.keys(r.newHosts).join(', ')}` : ''} (the project validates)`,
        formatNotes(r.notes),
        `next: npm run plan -- ${r.name}`,
      ].join('\n'),
    );
  }, run);
}
