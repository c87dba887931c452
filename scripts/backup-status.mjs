// npm run backup:status: the `backup:status` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth backup:status` is the same command.
process.argv.splice(2, 0, 'backup:status');
await import('../src/cli/launch.mjs');
