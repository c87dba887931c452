// npm run init: the `init` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth init` is the same command.
process.argv.splice(2, 0, 'init');
await import('../src/cli/launch.mjs');
