import { importCli } from '../src/cli/import.ts';

await importCli(process.argv.slice(2));
