// npm run bench: the `bench` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth bench` is the same command.
process.argv.splice(2, 0, 'bench');
await import('../src/cli/launch.mjs');
