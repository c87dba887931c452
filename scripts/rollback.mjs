// npm run rollback: the `rollback` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth rollback` is the same command.
process.argv.splice(2, 0, 'rollback');
await import('../src/cli/launch.mjs');
