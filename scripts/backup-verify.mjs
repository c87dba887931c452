// npm run backup:verify: the `backup:verify` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth backup:verify` is the same command.
process.argv.splice(2, 0, 'backup:verify');
await import('../src/cli/launch.mjs');
