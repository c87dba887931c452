// npm run sandbox:up: the `sandbox:up` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth sandbox:up` is the same command.
process.argv.splice(2, 0, 'sandbox:up');
await import('../src/cli/launch.mjs');
