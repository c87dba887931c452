// npm run logs: the `logs` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth logs` is the same command.
process.argv.splice(2, 0, 'logs');
await import('../src/cli/launch.mjs');
