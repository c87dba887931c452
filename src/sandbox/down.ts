// `npm run sandbox:down`: stop the machines and the sandbox's service containers (images, volumes,
// cache and keys stay; a later sandbox:up starts the same machines again).
import { FLEET_NETWORK, SANDBOX_HOSTS, SANDBOX_NETWORK, hostSpec } from './config.ts';
import { stopMachine } from './hosts.ts';
import { run, step } from './proc.ts';
import { stopServices } from './services.ts';
import { writeStatus } from './status.ts';

export interface DownOptions {
  /** Also remove the machines (not their volumes) and the `berth` and fleet networks. */
  network?: boolean;
  /** Also stop dockerd (it was started by sandbox:up). */
  engine?: boolean;
}

export async function sandboxDown(opts: DownOptions = {}): Promise<void> {
  const engineUp = (await run(['docker', 'version'], { allowFail: true, timeoutMs: 10_000 })).code === 0;
  if (engineUp) {
    for (const name of SANDBOX_HOSTS) {
      const h = hostSpec(name);
      await step(`host ${h.name}: stop ${h.container}`, async () => {
        await stopMachine(h);
        if (opts.network) await run(['docker', 'rm', '-f', h.container], { allowFail: true });
      });
    }
    await step('sandbox containers', async () => {
      await stopServices();
    });
    if (opts.network) {
      await step(`networks ${SANDBOX_NETWORK.name}, ${FLEET_NETWORK.name}`, async () => {
        await run(['docker', 'network', 'rm', SANDBOX_NETWORK.name], { allowFail: true });
        await run(['docker', 'network', 'rm', FLEET_NETWORK.name], { allowFail: true });
      });
    }
  }
  if (opts.engine && engineUp) {
    await step('dockerd', async () => {
      await run(['bash', '-c', 'kill "$(cat /var/run/docker.pid)"; for i in $(seq 1 50); do [ -e /var/run/docker.pid ] || exit 0; sleep 0.2; done']);
    });
  }
  await writeStatus().catch(() => undefined);
}
