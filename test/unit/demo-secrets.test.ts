// The demo's secrets: made once, stable across demos, private, and exactly where the example's
// secret_commands read them (so README commands work on the example after `npm run demo`).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { NEXT_COMMANDS } from '../../src/cli/demo.ts';
import { SANDBOX_STATE_DIR } from '../../src/sandbox/config.ts';
import { DEMO_SECRET_NAMES, demoSecretFile, demoSecretsDir, ensureDemoSecrets } from '../../src/sandbox/demo-secrets.ts';
import { REPO_ROOT } from '../../src/sandbox/paths.ts';

test('generated once, stable, private; S3 keys follow the sandbox', () => {
  const state = mkdtempSync(join(tmpdir(), 'berth-demo-'));
  mkdirSync(join(state, 's3'));
  writeFileSync(join(state, 's3', 'credentials.json'), JSON.stringify({ accessKeyId: 'AK', secretAccessKey: 'SK' }));
  ensureDemoSecrets(state);
  const kb = readFileSync(demoSecretFile('SECRET_KEY_BASE', state), 'utf8');
  assert.match(kb, /^[0-9a-f]{64}$/);
  ensureDemoSecrets(state);
  assert.equal(readFileSync(demoSecretFile('SECRET_KEY_BASE', state), 'utf8'), kb, 'a second demo keeps the same secret');
  assert.equal(readFileSync(demoSecretFile('LITESTREAM_ACCESS_KEY_ID', state), 'utf8'), 'AK');
  assert.equal(statSync(demoSecretsDir(state)).mode & 0o777, 0o700);
  for (const n of DEMO_SECRET_NAMES) assert.equal(statSync(demoSecretFile(n, state)).mode & 0o777, 0o600);
});

test("the example's secret_commands read the demo's files; README shows the next commands", () => {
  const app = YAML.parse(readFileSync(join(REPO_ROOT, 'examples/sandbox/apps/wombatworkouts/app.yml'), 'utf8')) as { secrets: string[]; secret_commands: Record<string, string> };
  assert.deepEqual([...app.secrets].sort(), [...DEMO_SECRET_NAMES]);
  for (const n of DEMO_SECRET_NAMES) assert.equal(app.secret_commands[n], `cat ${demoSecretFile(n, SANDBOX_STATE_DIR)}`);
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const first = readme.slice(0, readme.indexOf('\n## '));
  for (const c of NEXT_COMMANDS) assert.ok(first.includes(c), `README's first section shows: ${c}`);
});
