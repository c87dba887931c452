// npm run demo: the `demo` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth demo` is the same command.
process.argv.splice(2, 0, 'demo');
await import('../src/cli/launch.mjs');
