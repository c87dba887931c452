// npm run help: the `help` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth help` is the same command.
process.argv.splice(2, 0, 'help');
await import('../src/cli/launch.mjs');
