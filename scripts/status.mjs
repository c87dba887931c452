// npm run status: the `status` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth status` is the same command.
process.argv.splice(2, 0, 'status');
await import('../src/cli/launch.mjs');
