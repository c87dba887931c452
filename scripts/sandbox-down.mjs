// npm run sandbox:down: the `sandbox:down` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth sandbox:down` is the same command.
process.argv.splice(2, 0, 'sandbox:down');
await import('../src/cli/launch.mjs');
