// npm run start: the `start` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth start` is the same command.
process.argv.splice(2, 0, 'start');
await import('../src/cli/launch.mjs');
