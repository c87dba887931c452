// Ship an image from this machine's Docker engine to hosts over SSH, without a registry: each host
// receives only the layers it lacks (by chain ID), staged so that a cut transfer resumes, loaded in
// one `docker load`, verified by image ID and only then tagged. Hosts in parallel. Used by
// `registry: none` deploys and rollbacks, and by anything else that must put an image on hosts.
import { CommandError, StepError } from '../errors.ts';
import { blobTarStream, imageShipScripts, RECEIVE_EXIT } from '../exec/image-ship.ts';
import { exportImage, exportsSettled, imageCacheDir, localImageCmd } from '../exec/image-cache.ts';
import { formatBytes, type HostImages, type LocalImage, parseHostImages, planShip, shortId } from '../plan/image-ship.ts';
import type { Deps } from './deps.ts';
import type { HostHandle } from './host.ts';
import { retrying, type RetryPolicy, sshConnectFailed } from './retry.ts';

export interface ShipOutcome {
  host: string;
  /** present: the host had it tagged; tagged: it had the image untagged; sent: layers went over SSH. */
  result: 'present' | 'tagged' | 'sent' | 'dry-run';
  imageId: string;
  layers: number;
  /** Layers the host already had (by chain ID). */
  layersPresent: number;
  /** Blob bytes (config and layers as cached: compressed when pushed, plain tars when saved) sent. */
  bytes: number;
  /** Bytes piped into ssh (a tar of the blobs, gzip'd when they are plain tars), every attempt included. */
  wireBytes: number;
  /** Bytes a cut earlier transfer had staged, not sent again. */
  resumedBytes: number;
  ms: number;
}

/** The host's staging changed between the probe and the transfer (another transfer of the image): probe again. */
class Replan extends Error {}

/** A transfer cut by a lost connection is resumed (staged bytes are kept) this many more times. */
export const SHIP_RETRY: RetryPolicy = { retries: 2, minTimeoutMs: 1000, transient: (e) => sshConnectFailed(e) || e instanceof Replan };

/** Each image ID is exported to the cache once per process, however many hosts and deploys want it. */
const exports = new Map<string, Promise<LocalImage>>();

function exportOnce(deps: Deps, dir: string, ref: string, id: string, size: number): Promise<LocalImage> {
  const key = `${dir}\0${id}`;
  let p = exports.get(key);
  if (!p) {
    const how = deps.env.BERTH_IMAGE_EXPORT === 'save' || deps.env.BERTH_IMAGE_EXPORT === 'push' ? deps.env.BERTH_IMAGE_EXPORT : undefined;
    p = exportImage(deps.runner, dir, ref, id, { size, how, info: (m) => deps.log.info(m), warn: (m) => deps.log.warn(m) });
    exports.set(key, p);
    p.catch(() => exports.delete(key));
  }
  return p;
}

/** The local engine's image ID for `ref` and its unpacked size, or undefined when it is not there. */
export async function localImage(deps: Deps, ref: string): Promise<{ id: string; size: number } | undefined> {
  const r = await deps.runner.run(localImageCmd.inspect(ref), { allowFailure: true });
  const [id, size] = r.stdout.trim().split(' ');
  return r.exitCode === 0 && id ? { id, size: Number(size) || 0 } : undefined;
}

/**
 * Put `ref` (an image of this machine's engine) on every host, each getting only what it lacks.
 * Hosts run in parallel; one failing does not stop the others. Throws (after all finished) a
 * StepError naming every host that failed and why.
 */
export async function shipImage(deps: Deps, hosts: HostHandle[], ref: string, opts: { expectId?: string } = {}): Promise<ShipOutcome[]> {
  const local = await localImage(deps, ref);
  if (!local) {
    if (deps.runner.dryRun) {
      deps.log.info(`dry run — ${ref} would be shipped over SSH to ${hosts.map((h) => h.name).join(', ')} (only the layers each lacks)`);
      return hosts.map((h) => ({ host: h.name, result: 'dry-run', imageId: '', layers: 0, layersPresent: 0, bytes: 0, wireBytes: 0, resumedBytes: 0, ms: 0 }));
    }
    throw new StepError('image', `${ref} is not in this machine's Docker engine, so it cannot be shipped to ${hosts.map((h) => h.name).join(', ')}; build it here first (build.on: local) and rerun.`);
  }
  const { id, size } = local;
  if (opts.expectId && opts.expectId !== id) {
    throw new StepError('image', `${ref} in this machine's Docker engine is ${shortId(id)}, not ${shortId(opts.expectId)} (the tag was rebuilt since); nothing was shipped.`);
  }
  const dir = imageCacheDir(deps.env);
  // The export from the local engine starts at once, beside the hosts' probes (a new build needs it).
  const exported = () => exportOnce(deps, dir, ref, id, size);
  if (!deps.runner.dryRun) exported().catch(() => {});
  const settled = await Promise.allSettled(hosts.map((h) => shipToHost(deps, h, ref, id, dir, exported)));
  await exportsSettled();
  const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [{ host: hosts[i]!.name, err: s.reason as Error }] : []));
  if (failed.length === 1 && hosts.length === 1) throw failed[0]!.err;
  if (failed.length) {
    throw new StepError('image', `shipping ${ref} failed on ${failed.map((f) => `${f.host} (${f.err.message.split('\n')[0]})`).join('; ')}`, undefined, { cause: failed[0]!.err });
  }
  return settled.map((s) => (s as PromiseFulfilledResult<ShipOutcome>).value);
}

async function shipToHost(deps: Deps, h: HostHandle, ref: string, id: string, dir: string, exported: () => Promise<LocalImage>): Promise<ShipOutcome> {
  const t0 = Date.now();
  const out: ShipOutcome = { host: h.name, result: 'present', imageId: id, layers: 0, layersPresent: 0, bytes: 0, wireBytes: 0, resumedBytes: 0, ms: 0 };
  let attempt = 0;
  try {
    await retrying(deps.log, `${h.name}: ship ${ref}`, SHIP_RETRY, async () => {
      attempt++;
      const probe = parseHostImages((await deps.runner.run(imageShipScripts.probe(h.ssh, ref, id))).stdout, ref, id);
      await shipOnce(deps, h, ref, id, dir, exported, probe, out, attempt);
    });
  } catch (err) {
    if (!(err instanceof CommandError && err.exitCode === 255)) throw err;
    throw new StepError(
      'image',
      `lost the SSH connection while shipping ${ref} (${attempt} attempt${attempt > 1 ? 's' : ''}, ${formatBytes(out.wireBytes)} on the wire). ` +
        'Nothing was tagged, so no deploy can run a half image; what arrived stays staged on the host and the rerun sends only the rest.',
      { host: h.name },
      { cause: err },
    );
  }
  out.ms = Date.now() - t0;
  return out;
}

async function shipOnce(deps: Deps, h: HostHandle, ref: string, id: string, dir: string, exported: () => Promise<LocalImage>, probe: HostImages, out: ShipOutcome, attempt: number) {
  if (probe.refId === id) {
    out.result = 'present';
    deps.log.info(`${h.name}: ${ref} is there (${shortId(id)}); nothing to send`);
    return;
  }
  if (deps.runner.dryRun) {
    out.result = 'dry-run';
    deps.log.info(`${h.name}: dry run — would ship ${ref} (${shortId(id)}) over SSH${probe.hasId ? ' (tag only: the image is there)' : ''}`);
    return;
  }
  // An image there untagged needs only its tag: no export, nothing sent.
  const image: LocalImage = probe.hasId ? { id, config: '', configSize: 0, layers: [], compressed: true, unpackedSize: 0 } : await exported();
  const plan = planShip(image, probe);
  out.layers = image.layers.length;
  if (plan.kind === 'refuse') throw new StepError('image', `cannot ship ${ref}: ${plan.reason}.`, { host: h.name });
  if (plan.kind === 'present') return;
  let sent = 0;
  const load = plan.kind === 'send' ? plan.load : [];
  if (plan.kind === 'send') {
    out.layersPresent = plan.layersPresent;
    out.resumedBytes = Math.max(out.resumedBytes, plan.resumed);
    const missing = image.layers.length - plan.layersPresent;
    deps.log.info(
      `${h.name}: shipping ${ref} (${shortId(id)}): ${missing} of ${image.layers.length} layers missing, ${formatBytes(plan.bytes)} to send` +
        (plan.resumed ? `, ${formatBytes(plan.resumed)} already staged by an interrupted transfer` : '') + (attempt > 1 ? ` (attempt ${attempt})` : ''),
    );
  } else deps.log.info(`${h.name}: ${plan.reason}`);
  const sends = plan.kind === 'send' ? plan.sends : [];
  const receive = { manifest: plan.kind === 'send' ? plan.manifest : '[]', gzip: !image.compressed, discard: plan.kind === 'send' ? plan.discard : [], sends, load };
  const stream = blobTarStream(dir, sends, (n) => (sent = n), receive.gzip);
  const cmd = imageShipScripts.receive(h.ssh, ref, id, receive);
  let r;
  try {
    r = await deps.runner.run(cmd, { stdinStream: stream, allowFailure: true });
  } finally {
    out.wireBytes += sent;
    stream.destroy();
  }
  if (r.exitCode === 255) {
    // ssh lost the connection: the staged bytes stay on the host for the next attempt (or the rerun).
    throw new CommandError(cmd.argv, 255, r.stderr, h.name);
  }
  if (r.stderr.includes('took over from a stalled transfer')) deps.log.warn(`${h.name}: stopped the receiver of an earlier transfer of ${ref} whose connection had died`);
  const said = r.stdout.trim().split('\n').pop() ?? '';
  if (r.exitCode === RECEIVE_EXIT.replan) throw new Replan(said);
  if (r.exitCode !== 0) {
    const why =
      r.exitCode === RECEIVE_EXIT.incomplete ? `the transfer ended early (${said}); the staged part is kept, rerun to send the rest`
      : r.exitCode === RECEIVE_EXIT.busy ? said
      : r.exitCode === RECEIVE_EXIT.loadFailed ? `docker load refused it: ${said.replace(/^load-failed /, '')}`
      : r.exitCode === RECEIVE_EXIT.verifyFailed ? said.replace(/^verify-failed /, '')
      : (r.stderr || said).trim().split('\n').pop();
    throw new StepError('image', `shipping ${ref} failed: ${why}. Nothing was tagged: no deploy can run a half image.`, { host: h.name });
  }
  out.result = plan.kind === 'tag' ? 'tagged' : 'sent';
  if (plan.kind === 'send') out.bytes += plan.bytes;
  deps.log.info(
    `${h.name}: ${ref} ${plan.kind === 'tag' ? 'tagged' : 'loaded, verified as ' + shortId(id) + ' and tagged'}` +
      (plan.kind === 'send' ? `; sent ${plan.bytes} bytes of layers as ${out.wireBytes} bytes on the wire` : ''),
  );
}
