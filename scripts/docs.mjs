// npm run docs: the `docs` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth docs` is the same command.
process.argv.splice(2, 0, 'docs');
await import('../src/cli/launch.mjs');
