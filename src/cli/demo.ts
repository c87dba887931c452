// `npm run demo`: bring the sandbox host up, set up its edge, deploy the example app
// (examples/sandbox/apps/wombatworkouts) and show its HTTPS answer, verified against the sandbox CA.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploy } from '../app/deploy.ts';
import { setup } from '../app/setup.ts';
import { SANDBOX_CA_DIR, SANDBOX_STATE_DIR } from '../sandbox/config.ts';
import { httpsRequest, sandboxCaBundle, waitFor } from '../sandbox/http.ts';
import { REPO_ROOT } from '../sandbox/paths.ts';
import { sandboxUp } from '../sandbox/up.ts';
import { createDeps } from './deps.ts';
import { main, type MainOptions } from './main.ts';
import { common, parseFlags, usage } from './args.ts';

export const DEMO_ROOT = join(REPO_ROOT, 'examples', 'sandbox');
const APP = 'wombatworkouts';
const DOMAIN = 'wombatworkouts.berth.test';

const DEMO_USAGE = 'usage: npm run demo [-- --verbose]   (sandbox host up, edge set up, the example app deployed over HTTPS)';

export function demoCli(argv: string[]) {
  const run: MainOptions = {};
  return main(async () => {
    const { values } = parseFlags(argv, { verbose: common.verbose, help: common.help }, DEMO_USAGE, { max: 0 });
    usage(DEMO_USAGE, values);
    const verbose = (run.verbose = !!values.verbose);
    await sandboxUp({});
    // The demo's secrets: the sandbox S3 credentials, and a fresh Rails secret unless one is set.
    const s3 = JSON.parse(readFileSync(join(SANDBOX_STATE_DIR, 's3', 'credentials.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    process.env.BERTH_ROOT = DEMO_ROOT;
    process.env.BERTH_SECRET_LITESTREAM_ACCESS_KEY_ID ??= s3.accessKeyId;
    process.env.BERTH_SECRET_LITESTREAM_SECRET_ACCESS_KEY ??= s3.secretAccessKey;
    process.env.BERTH_SECRET_SECRET_KEY_BASE ??= randomBytes(32).toString('hex');
    const deps = createDeps({ verbose });
    await setup(deps, { host: 'h1' });
    const [out] = await deploy(deps, { app: APP });
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
        'Try it yourself:',
        `  curl --cacert ${SANDBOX_CA_DIR}/bundle.pem --resolve ${DOMAIN}:443:127.0.1.1 ${url}`,
        `  BERTH_ROOT=examples/sandbox npm run status`,
      ].join('\n'),
    );
  }, run);
}
