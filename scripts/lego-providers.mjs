// npm run lego:providers: the `lego:providers` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth lego:providers` is the same command.
process.argv.splice(2, 0, 'lego:providers');
await import('../src/cli/launch.mjs');
