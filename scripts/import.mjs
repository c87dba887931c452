// npm run import: the `import` command (src/cli/table.ts) through the launcher, which runs the
// bundled CLI (src/cli/launch.mjs); `berth import` is the same command.
process.argv.splice(2, 0, 'import');
await import('../src/cli/launch.mjs');
