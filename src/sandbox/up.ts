// `npm run sandbox:up`: engine → hosts (sshd + contexts) → images → services → status.json.
// Every step is idempotent and logs its duration; a warm rerun only checks.
import { join } from 'node:path';
import { SANDBOX_HOSTS, hostSpec } from './config.ts';
import { checkContext, ensureClientKey, ensureContext, ensureSshClientConfig, ensureSshd } from './hosts.ts';
import { SANDBOX_DIR } from './paths.ts';
import { run, step } from './proc.ts';


export interface UpOptions {
  /** Skip building images (engine, hosts, services only). */
  skipImages?: boolean;
  /** Rebuild these image dirs (sandbox/images/<name>) even when their input hash is unchanged. */
  rebuild?: string[];
}

export async function sandboxUp(opts: UpOptions = {}): Promise<void> {
  const t0 = performance.now();
  if (process.getuid?.() !== 0) throw new Error('sandbox:up must run as root (it installs packages and starts daemons)');
  await step('engine (docker.io 26 + compose + buildx)', async () => {
    const r = await run(['bash', join(SANDBOX_DIR, 'provision', 'engine.sh')], { echo: false });
    console.log(`[sandbox]   ${r.stdout.trim().split('\n').pop()}`);
  });
  const hosts = SANDBOX_HOSTS.map(hostSpec);
  await step('ssh client key + ~/.ssh/config', async () => {
    await ensureClientKey();
    await ensureSshClientConfig(hosts);
  });
  for (const h of hosts) {
    await step(`host ${h.name}: sshd on ${h.sshHost}:${h.sshPort}, context ${h.context}`, async () => {
      await ensureSshd(h);
      await ensureContext(h);
      const v = await checkContext(h);
      console.log(`[sandbox]   docker --context ${h.context} info → server ${v}`);
    });
  }
  if (!opts.skipImages) {
    const { buildAllImages } = await import('./images.ts');
    await buildAllImages({ rebuild: opts.rebuild });
    const { ensureServices } = await import('./services.ts');
    await ensureServices();
  }
  const { writeStatus } = await import('./status.ts');
  await step('status.json', async () => {
    await writeStatus();
  });
  console.log(`[sandbox] up in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
}
