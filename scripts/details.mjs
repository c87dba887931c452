// npm run details: the `details` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth details` is the same command.
process.argv.splice(2, 0, 'details');
await import('../src/cli/launch.mjs');
