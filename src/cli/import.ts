// `npm run import -- kamal <config/deploy.yml> [--secrets <.kamal/secrets>] [--name <app>] [--force] [--json]`
import { parseArgs } from 'node:util';
import { StepError } from '../errors.ts';
import { formatNotes } from '../import/kamal.ts';
import { importKamalFiles } from '../import/kamal-files.ts';
import { createLogger } from '../log/logger.ts';
import { common, usage } from './args.ts';
import { main } from './main.ts';

const U = `usage: npm run import -- kamal <config/deploy.yml> [--secrets <.kamal/secrets>] [--name <app>] [--force] [--json]
  Writes apps/<name>/app.yml and the new hosts.json entries from a Kamal 2 config, then validates the project.
  Secret values are never copied: commands become secret_commands, literals are listed for you to export.`;

export function importCli(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { ...common, secrets: { type: 'string' }, name: { type: 'string' }, force: { type: 'boolean' } },
  });
  usage(U, values);
  const log = createLogger({ verbose: !!values.verbose, json: !!values.json });
  return main(async () => {
    const [from, deployPath] = positionals;
    if (from !== 'kamal' || !deployPath) throw new StepError('usage', U);
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
  }, { verbose: values.verbose });
}
