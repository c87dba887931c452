// npm run live: the `live` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth live` is the same command.
process.argv.splice(2, 0, 'live');
await import('../src/cli/launch.mjs');
