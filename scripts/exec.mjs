// npm run exec: the `exec` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth exec` is the same command.
process.argv.splice(2, 0, 'exec');
await import('../src/cli/launch.mjs');
