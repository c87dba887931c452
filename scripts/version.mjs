// npm run version: the `version` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth version` is the same command.
process.argv.splice(2, 0, 'version');
await import('../src/cli/launch.mjs');
