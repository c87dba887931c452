// `npm run demo`: bring the sandbox host up, set up its edge, deploy the example app
// (examples/sandbox/apps/wombatworkouts) and show its HTTPS answer, verified against the sandbox CA.
import { join } from 'node:path';
import { backupVerify } from '../app/backup.ts';
import { deploy } from '../app/deploy.ts';
import { setup } from '../app/setup.ts';
import { SANDBOX_CA_DIR } from '../sandbox/config.ts';
import { ensureDemoSecrets } from '../sandbox/demo-secrets.ts';
import { httpsRequest, sandboxCaBundle, waitFor } from '../sandbox/http.ts';
import { REPO_ROOT } from '../sandbox/paths.ts';
import { DEMO_SANDBOX, sandboxUp } from '../sandbox/up.ts';
import { createDeps } from './deps.ts';
import type { CommandArgs } from './spec.ts';

export const DEMO_ROOT = join(REPO_ROOT, 'examples', 'sandbox');
/** What to try after the demo; README.md shows the same lines. */
export const NEXT_COMMANDS = [
  'BERTH_ROOT=examples/sandbox npm run deploy -- wombatworkouts --release v2',
  'BERTH_ROOT=examples/sandbox npm run rollback -- wombatworkouts',
  'BERTH_ROOT=examples/sandbox npm run status',
  'BERTH_ROOT=examples/sandbox npm run backup:status',
];
const APP = 'wombatworkouts';
const DOMAIN = 'wombatworkouts.berth.test';

export async function demoCli({ values }: CommandArgs) {
  const verbose = !!values.verbose;
  // Only what the demo uses (one host, nine image folders); `npm test`'s sandbox:up builds the rest.
  await sandboxUp({ ...DEMO_SANDBOX });
  // The demo's secrets live where the example's secret_commands read them (made once, stable), so
  // a second demo is a no-op and every command below works on the example as printed.
  ensureDemoSecrets();
  process.env.BERTH_ROOT = DEMO_ROOT;
  const deps = createDeps({ verbose });
  await setup(deps, { host: 'h1' });
  const [out] = await deploy(deps, { app: APP });
  // The first restore check, so backup:status is not red only because none ran yet.
  const [verified] = await backupVerify(deps, { app: APP });
  const url = `https://${DOMAIN}/`;
  const res = await waitFor(`${url} over HTTPS`, async () => {
    const r = await httpsRequest(url, { headers: { accept: 'application/json' }, ca: sandboxCaBundle(true) }).catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  }, { timeoutMs: 90_000, intervalMs: 1000 });
  const issuer = (res.peerCertificate?.issuer as { CN?: string } | undefined)?.CN ?? '?';
  deps.log.output(
    [
      '',
      `${APP} is live: ${url}  (release ${out?.release}, ${out?.colour})`,
      `certificate issued by "${issuer}", verified against the sandbox CA (${SANDBOX_CA_DIR}/bundle.pem)`,
      `GET / → ${res.status}, x-release: ${res.headers['x-release']}`,
      res.body,
      '',
      `backup:verify: ${verified?.ok ? 'the latest replica restores and matches the live databases' : `FAILED (${verified?.error ?? 'see above'})`}`,
      '',
      'Try it yourself:',
      `  curl --cacert ${SANDBOX_CA_DIR}/bundle.pem --resolve ${DOMAIN}:443:127.0.1.1 ${url}`,
      ...NEXT_COMMANDS.map((c) => `  ${c}`),
    ].join('\n'),
  );
}
