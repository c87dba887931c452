// npm run alias: the `alias` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth alias` is the same command.
process.argv.splice(2, 0, 'alias');
await import('../src/cli/launch.mjs');
