import { deployCli } from '../src/cli/commands.ts';

await deployCli(process.argv.slice(2));
