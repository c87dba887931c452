// npm run remove: the `remove` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth remove` is the same command.
process.argv.splice(2, 0, 'remove');
await import('../src/cli/launch.mjs');
