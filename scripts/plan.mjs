// npm run plan: the `plan` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth plan` is the same command.
process.argv.splice(2, 0, 'plan');
await import('../src/cli/launch.mjs');
