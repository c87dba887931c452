// npm run history: the `history` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth history` is the same command.
process.argv.splice(2, 0, 'history');
await import('../src/cli/launch.mjs');
