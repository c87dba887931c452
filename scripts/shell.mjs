// npm run shell: the `shell` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth shell` is the same command.
process.argv.splice(2, 0, 'shell');
await import('../src/cli/launch.mjs');
