// npm run lock: the `lock` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth lock` is the same command.
process.argv.splice(2, 0, 'lock');
await import('../src/cli/launch.mjs');
