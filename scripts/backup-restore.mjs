// npm run backup:restore: the `backup:restore` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth backup:restore` is the same command.
process.argv.splice(2, 0, 'backup:restore');
await import('../src/cli/launch.mjs');
