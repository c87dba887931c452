// npm run maintenance: the `maintenance` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth maintenance` is the same command.
process.argv.splice(2, 0, 'maintenance');
await import('../src/cli/launch.mjs');
