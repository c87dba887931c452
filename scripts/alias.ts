import { aliasCli } from '../src/cli/commands.ts';

// npm run console|shell|dbc -- <app>: `tsx scripts/alias.ts <alias> <app> …`
const [alias, ...rest] = process.argv.slice(2);
await aliasCli(alias ?? '', rest);
