// npm run sandbox:status: the `sandbox:status` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth sandbox:status` is the same command.
process.argv.splice(2, 0, 'sandbox:status');
await import('../src/cli/launch.mjs');
