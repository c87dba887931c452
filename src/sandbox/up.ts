// `npm run sandbox:up`: engine → images → services (+ fleet network) → mirror → machines h1..hN
// (sshd, dockerd, contexts) → status.json. Every step is idempotent and logs its duration; a warm
// rerun only checks.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SANDBOX_HOSTS, SANDBOX_STATE_DIR, hostSpec } from './config.ts';
import {
  checkContext, ensureClientKey, ensureContext, ensureFleetNetwork, ensureMachine, ensureSshClientConfig, machineHasDocker, waitForMachineDocker,
} from './hosts.ts';
import { SANDBOX_DIR } from './paths.ts';
import { run, step } from './proc.ts';

export interface UpOptions {
  /** Skip building images (engine, services, machines only; the images must exist). */
  skipImages?: boolean;
  /** Rebuild these image dirs (sandbox/images/<name>) even when their input hash is unchanged. */
  rebuild?: string[];
}

/**
 * The retired sandbox host (a loopback sshd on 127.0.0.1:2222 in front of this machine's engine,
 * with its edge on 0.0.0.0:80/443): stop its sshd and remove its edge, which would hold the ports
 * the machines publish on 127.0.1.N.
 */
async function retireLegacyHost(): Promise<void> {
  if (process.env.BERTH_SANDBOX_KEEP_LEGACY === '1') return;
  const dir = join(SANDBOX_STATE_DIR, 'h1');
  const pidFile = join(dir, 'sshd.pid');
  if (existsSync(pidFile)) {
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  }
  if (existsSync(join(dir, 'sshd_config'))) await rm(dir, { recursive: true, force: true });
  await run(['bash', '-c', 'docker ps -aq --filter label=com.docker.compose.project=berth-edge | xargs -r docker rm -f >/dev/null'], { allowFail: true });
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
  if (!opts.skipImages) {
    const { buildAllImages } = await import('./images.ts');
    await buildAllImages({ rebuild: opts.rebuild });
  }
  await step('fleet network', ensureFleetNetwork);
  const { ensureServices, setAcmeDefault } = await import('./services.ts');
  await ensureServices();
  await step('mirror (production image names for the hosts)', async () => {
    const { pushToMirror } = await import('./mirror.ts');
    const r = await pushToMirror();
    console.log(`[sandbox]   pushed ${r.pushed.length ? r.pushed.join(' ') : 'nothing'}; ${r.kept.length} already there`);
  });
  await step('retire the loopback-sshd host', retireLegacyHost);
  for (const h of hosts) {
    await step(`host ${h.name}: machine ${h.container} (${h.address}, ssh ${h.sshHost}:${h.sshPort}, context ${h.context})`, async () => {
      const r = await ensureMachine(h);
      if (r !== 'kept') console.log(`[sandbox]   ${r} ${h.container}`);
      await ensureContext(h);
      if (await machineHasDocker(h)) {
        await waitForMachineDocker(h);
        const v = await checkContext(h);
        console.log(`[sandbox]   docker --context ${h.context} info → server ${v.version}, ID ${v.id}`);
      } else {
        console.log(`[sandbox]   ${h.name} is bare (no Docker until npm run setup -- ${h.name})`);
      }
    });
  }
  await step('challtestsrv default answer (h1)', setAcmeDefault);
  const { writeStatus } = await import('./status.ts');
  await step('status.json', async () => {
    await writeStatus();
  });
  console.log(`[sandbox] up in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
}
