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
  /**
   * Only these image dirs (and the ones they are built FROM), the services that run them and the
   * mirror tags they make (`npm run demo` builds what it uses; sandbox:up, for the tests, all).
   */
  images?: readonly string[];
  /** Only these machines (default: every host of SANDBOX_HOSTS). */
  hosts?: readonly string[];
}

/** What `npm run demo` uses: one Docker host (h1), its edge, the Rails example with Litestream to S3, ACME. */
export const DEMO_SANDBOX = {
  hosts: ['h1'],
  images: ['machine-docker', 'traefik', 'socket-proxy', 'litestream', 'rails', 'pebble', 's3', 'registry', 'dns'],
} as const;

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
  const hosts = (opts.hosts ?? SANDBOX_HOSTS).map(hostSpec);
  await step('ssh client key + ~/.ssh/config', async () => {
    await ensureClientKey();
    await ensureSshClientConfig();
  });
  const { buildAllImages, discoverImages, withDependencies } = await import('./images.ts');
  const dirs = await discoverImages();
  const only = opts.images ? withDependencies(opts.images, dirs) : undefined;
  if (!opts.skipImages) await buildAllImages({ rebuild: opts.rebuild, only });
  /** Image tags this run may use (every one without `images`). */
  const tags = new Set(dirs.filter((d) => !only || only.includes(d.name)).flatMap((d) => d.tags));
  await step('fleet network', ensureFleetNetwork);
  const { ensureServices, setAcmeDefault } = await import('./services.ts');
  await ensureServices({ images: tags });
  await step('mirror (production image names for the hosts)', async () => {
    const { pushToMirror } = await import('./mirror.ts');
    const r = await pushToMirror({ tags });
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
