// npm run prune: the `prune` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth prune` is the same command.
process.argv.splice(2, 0, 'prune');
await import('../src/cli/launch.mjs');
