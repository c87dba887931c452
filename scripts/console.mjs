// npm run console: the `console` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth console` is the same command.
process.argv.splice(2, 0, 'console');
await import('../src/cli/launch.mjs');
