import { versionCli } from '../src/cli/parity.ts';

await versionCli(process.argv.slice(2));
