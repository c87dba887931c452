// npm run completion: the `completion` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth completion` is the same command.
process.argv.splice(2, 0, 'completion');
await import('../src/cli/launch.mjs');
