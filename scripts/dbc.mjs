// npm run dbc: the `dbc` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth dbc` is the same command.
process.argv.splice(2, 0, 'dbc');
await import('../src/cli/launch.mjs');
