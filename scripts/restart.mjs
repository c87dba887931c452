// npm run restart: the `restart` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth restart` is the same command.
process.argv.splice(2, 0, 'restart');
await import('../src/cli/launch.mjs');
