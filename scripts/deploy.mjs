// npm run deploy: the `deploy` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth deploy` is the same command.
process.argv.splice(2, 0, 'deploy');
await import('../src/cli/launch.mjs');
