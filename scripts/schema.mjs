// npm run schema: the `schema` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth schema` is the same command.
process.argv.splice(2, 0, 'schema');
await import('../src/cli/launch.mjs');
