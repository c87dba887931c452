// npm run setup: the `setup` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth setup` is the same command.
process.argv.splice(2, 0, 'setup');
await import('../src/cli/launch.mjs');
