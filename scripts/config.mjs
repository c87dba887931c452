// npm run config: the `config` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth config` is the same command.
process.argv.splice(2, 0, 'config');
await import('../src/cli/launch.mjs');
