// `npm run sandbox:down`: stop the sandbox's containers and sshd processes (images, cache, keys stay).
import { SANDBOX_HOSTS, SANDBOX_NETWORK, hostSpec } from './config.ts';
import { stopSshd } from './hosts.ts';
import { run, step } from './proc.ts';
import { stopServices } from './services.ts';
import { writeStatus } from './status.ts';

export interface DownOptions {
  /** Also remove the `berth` network (fails if other containers are still attached). */
  network?: boolean;
  /** Also stop dockerd (it was started by sandbox:up). */
  engine?: boolean;
}

export async function sandboxDown(opts: DownOptions = {}): Promise<void> {
  const engineUp = (await run(['docker', 'version'], { allowFail: true, timeoutMs: 10_000 })).code === 0;
  if (engineUp) {
    await step('sandbox containers', async () => {
      await stopServices();
    });
    if (opts.network) {
      await step(`network ${SANDBOX_NETWORK.name}`, async () => {
        await run(['docker', 'network', 'rm', SANDBOX_NETWORK.name], { allowFail: true });
      });
    }
  }
  for (const name of SANDBOX_HOSTS) {
    const h = hostSpec(name);
    await step(`host ${h.name}: sshd`, async () => {
      await stopSshd(h);
    });
  }
  if (opts.engine && engineUp) {
    await step('dockerd', async () => {
      await run(['bash', '-c', 'kill "$(cat /var/run/docker.pid)"; for i in $(seq 1 50); do [ -e /var/run/docker.pid ] || exit 0; sleep 0.2; done']);
    });
  }
  await writeStatus().catch(() => undefined);
}
