// Scenario `transfer` (lane "transfer": h10, under that lane's lock): the Rails stand-in built here
// reaches a host three ways, side by side in one run, each from a host without the image —
//   berth:    registry: none — shipImage, only the layers the host lacks, over SSH;
//   saveload: `docker save <image> | ssh <host> docker load` (the whole image, uncompressed);
//   registry: the sandbox registry as a Berth deploy uses one: docker push here, then docker login
//             and docker pull on the host through its SSH Docker context —
// for the first deploy and for a one-line code change. Seconds: from the image built here to the
// image tagged on the host. Bytes on the wire: what reached the host, counted by its own firewall
// (iptables rules on eth0: SSH for every path, plus the registry's answers for the pull), plus, for
// the registry path, what docker push uploaded from here (the compressed size of every layer it
// reported as Pushed, and the config).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { shipImage, type ShipOutcome } from '../../app/ship-image.ts';
import { hostHandle } from '../../app/host.ts';
import type { Deps } from '../../app/deps.ts';
import { createRunner } from '../../docker/runner.ts';
import { createLogger } from '../../log/logger.ts';
import { hostSpec, REGISTRY, SANDBOX_SSH_KEY } from '../../sandbox/config.ts';
import { run } from '../../sandbox/proc.ts';
import { laneLockFile } from '../../../test/e2e/lanes.ts';
import { railsAppRepo, type AppRepo } from '../../../test/e2e/support/rails-repo.ts';
import type { BenchContext } from '../context.ts';
import { onConsole } from '../env.ts';
import { changedLayers, parsePushOutput, pushedBytes, ruleBytes, savedBlobSizes } from '../transfer-figures.ts';

const HOST = hostSpec('h10');
const NAME = 'transfer-bench/rails';
const PATHS = ['berth', 'saveload', 'registry'] as const;
type Path = (typeof PATHS)[number];
const LABEL: Record<Path, string> = { berth: 'Berth, registry: none', saveload: 'docker save | ssh docker load', registry: 'registry push + pull' };
const SSH_RULE = '-i eth0 -p tcp --dport 22 -m comment --comment berth-bench-ssh';
const pullRule = (registryIp: string) => `-i eth0 -p tcp -s ${registryIp} --sport 5000 -m comment --comment berth-bench-registry`;

/** Hold the lane's lock (the e2e runner's flock) while `fn` runs: the lane's machines are this scenario's alone. */
async function withLaneLock<T>(ctx: BenchContext, fn: () => Promise<T>): Promise<T> {
  const holder = spawn('flock', ['-w', '1800', laneLockFile('transfer'), 'sh', '-c', 'echo locked; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`could not take the transfer lane's lock (flock exit ${code})`)));
  });
  ctx.log('transfer: holding the transfer lane lock (h10)');
  try {
    return await fn();
  } finally {
    holder.stdin.end();
  }
}

const sh = (argv: string[], timeoutMs = 600_000) => run(argv, { timeoutMs });

async function build(repo: AppRepo, tag: string): Promise<{ ref: string; diffIds: string[] }> {
  const ref = `${NAME}:${tag}`;
  await sh(['docker', 'build', '-q', '-t', ref, repo.dir]);
  const diffIds = JSON.parse((await sh(['docker', 'image', 'inspect', ref, '--format', '{{json .RootFS.Layers}}'])).stdout) as string[];
  return { ref, diffIds };
}

/** The host without any of this scenario's images (or their layers), its counters at zero. */
async function resetHost(registryIp: string) {
  await onConsole(HOST, [
    `docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '(^|/)(transfer-bench/|berth/railsapp)' | xargs -r docker rmi -f >/dev/null 2>&1`,
    'docker image prune -f >/dev/null 2>&1',
    'rm -rf /var/lib/berth/images',
    `while iptables -D INPUT ${SSH_RULE} 2>/dev/null; do :; done; iptables -I INPUT 1 ${SSH_RULE}`,
    `while iptables -D INPUT ${pullRule(registryIp)} 2>/dev/null; do :; done; iptables -I INPUT 1 ${pullRule(registryIp)}`,
  ].join('; '));
}

const zeroCounters = () => onConsole(HOST, 'iptables -Z INPUT');

async function counters(): Promise<{ ssh: number; registry: number }> {
  const l = (await onConsole(HOST, 'iptables -L INPUT -v -x -n')).stdout;
  return { ssh: ruleBytes(l, 'berth-bench-ssh'), registry: ruleBytes(l, 'berth-bench-registry') };
}

function quietDeps(env: NodeJS.ProcessEnv): Deps {
  const lines: string[] = [];
  return {
    root: process.cwd(),
    runner: createRunner(),
    log: createLogger({ sink: { err: (l) => lines.push(l), out: (l) => lines.push(l) }, style: 'ci' }),
    env,
    now: () => new Date(),
    gitCommit: async () => undefined,
    shell: async () => ({ exitCode: 0, stdout: '', stderr: '' }),
  };
}

/** `docker save ref | ssh host docker load`, counting the bytes piped into ssh. */
function saveLoad(ref: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const save = spawn('docker', ['save', ref], { stdio: ['ignore', 'pipe', 'pipe'] });
    const ssh = spawn('ssh', ['-o', 'BatchMode=yes', '-i', SANDBOX_SSH_KEY, '-o', 'IdentitiesOnly=yes', '-p', String(HOST.sshPort), `${HOST.sshUser}@${HOST.sshHost}`, 'docker load -q'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let bytes = 0;
    let err = '';
    save.stderr.on('data', (d) => (err += d));
    ssh.stderr.on('data', (d) => (err += d));
    ssh.stdout.resume();
    save.stdout.pipe(new Transform({ transform(c: Buffer, _e, cb) { bytes += c.length; cb(null, c); } })).pipe(ssh.stdin);
    ssh.on('close', (code) => (code === 0 ? resolve(bytes) : reject(new Error(`docker save | ssh docker load: exit ${code}: ${err.trim().slice(-300)}`))));
    save.on('error', reject);
    ssh.on('error', reject);
  });
}

/** The registry path as a Berth deploy with a registry runs it. Returns what docker push uploaded. */
async function viaRegistry(ref: string, target: string, diffIds: string[]): Promise<{ pushBytes: number; pushed: number; skipped: number }> {
  await sh(['docker', 'tag', ref, target]);
  const push = await sh(['docker', 'push', target]);
  const login = spawn('docker', ['--context', HOST.context, 'login', REGISTRY.address, '--username', REGISTRY.username, '--password-stdin'], { stdio: ['pipe', 'ignore', 'pipe'] });
  login.stdin.end(REGISTRY.password);
  await new Promise<void>((res, rej) => login.on('close', (c) => (c === 0 ? res() : rej(new Error(`docker login on ${HOST.name}: exit ${c}`)))));
  await sh(['docker', '--context', HOST.context, 'pull', '--quiet', target]);
  // What the push uploaded: the manifest's compressed sizes of the layers it reported as Pushed.
  const manifest = JSON.parse((await sh(['docker', 'manifest', 'inspect', '--insecure', target])).stdout) as { config: { size: number }; layers: { size: number }[] };
  const p = pushedBytes(parsePushOutput(push.stdout), diffIds, manifest);
  return { pushBytes: p.bytes, pushed: p.pushed, skipped: p.skipped };
}

export async function runTransfer(ctx: BenchContext): Promise<void> {
  await withLaneLock(ctx, async () => {
    const repo = railsAppRepo('transfer-bench-');
    const cache = mkdtempSync(join(tmpdir(), 'berth-bench-imgcache-'));
    const runTag = Date.now().toString(36);
    const refs: string[] = [];
    try {
      const registryIp = (await onConsole(HOST, 'getent hosts registry | cut -d" " -f1')).stdout.trim();
      // A host logged in to the registry as Berth's deploy does it; here too for the push.
      await new Promise<void>((res, rej) => {
        const l = spawn('docker', ['login', REGISTRY.address, '--username', REGISTRY.username, '--password-stdin'], { stdio: ['pipe', 'ignore', 'pipe'] });
        l.stdin.end(REGISTRY.password);
        l.on('close', (c) => (c === 0 ? res() : rej(new Error(`docker login ${REGISTRY.address}: exit ${c}`))));
      });
      const first = await build(repo, repo.head());
      // The one-line change: a comment line in a controller (the app's COPY layer changes). Each
      // path gets its own change, built just before its transfer as a deploy builds and then ships:
      // an image built earlier and shipped later pushed its new layer ~250 ms slower from this
      // engine, and whichever path went first would have paid that for the others.
      const controller = 'app/controllers/home_controller.rb';
      const original = repo.read(controller);
      const change = (label: string) => build(repo, repo.commit(`one-line change ${label}`, { [controller]: `${original}# bench ${runTag} ${label}\n` }));
      const second = await change('layers');
      refs.push(first.ref, second.ref);
      const changed = changedLayers(first.diffIds, second.diffIds);
      const saved = savedBlobSizes((await sh(['sh', '-c', `docker save ${second.ref} | tar -tv`])).stdout);
      const changedBytes = changed.reduce((s, i) => s + (saved.get(second.diffIds[i]!) ?? NaN), 0);
      const imageBytes = second.diffIds.reduce((s, d) => s + (saved.get(d) ?? NaN), 0);
      ctx.rec.add('transfer.layer.changed', 'transfer: the layers a one-line change makes (uncompressed tar bytes)', 'count', changedBytes, `${changed.length} of ${second.diffIds.length} layers`);
      ctx.rec.add('transfer.image', 'transfer: the whole Rails stand-in image (uncompressed tar bytes)', 'count', imageBytes);

      const reps = ctx.reps(2, 1);
      const samples: Record<string, unknown>[] = [];
      for (let rep = 0; rep < reps; rep++) {
        for (const path of PATHS) {
          await resetHost(registryIp);
          const target = `${REGISTRY.address}/transfer-bench/${runTag}-${rep}/rails`;
          // A cold cache for the first deploy: the export from the local engine is part of Berth's cost.
          const repCache = join(cache, `${rep}`);
          for (const step of ['first', 'change'] as const) {
            const img = step === 'first' ? first : await change(`${rep}-${path}`);
            if (step === 'change') refs.push(img.ref);
            await zeroCounters();
            const t0 = performance.now();
            let tool: number | undefined;
            let detail: Record<string, unknown> = {};
            if (path === 'berth') {
              const [o] = (await shipImage(quietDeps({ ...process.env, BERTH_IMAGE_CACHE: repCache }), [hostHandle(HOST.name, { ssh: `${HOST.sshUser}@${HOST.sshHost}:${HOST.sshPort}`, identity_file: SANDBOX_SSH_KEY, roles: [] } as never)], img.ref)) as [ShipOutcome];
              tool = o.wireBytes;
              detail = { layersPresent: o.layersPresent, layers: o.layers, blobBytes: o.bytes };
            } else if (path === 'saveload') {
              tool = await saveLoad(img.ref);
            } else {
              const tag = step === 'first' ? 'v1' : 'v2';
              const r = await viaRegistry(img.ref, `${target}:${tag}`, img.diffIds);
              refs.push(`${target}:${tag}`);
              tool = r.pushBytes;
              detail = { layersPushed: r.pushed, layersNotUploaded: r.skipped };
            }
            const seconds = (performance.now() - t0) / 1000;
            const c = await counters();
            // Bytes on the wire: what reached the host (its firewall's count) plus, for the registry, the upload from here.
            const wire = c.ssh + (path === 'registry' ? c.registry + (tool ?? 0) : 0);
            ctx.rec.add(`transfer.${step}.${path}.s`, `transfer ${step === 'first' ? 'first deploy' : 'one-line change'}: ${LABEL[path]} (seconds)`, 's', seconds);
            ctx.rec.add(`transfer.${step}.${path}.bytes`, `transfer ${step === 'first' ? 'first deploy' : 'one-line change'}: ${LABEL[path]} (bytes on the wire)`, 'count', wire);
            if (path === 'registry' && step === 'first' && Number(detail.layersNotUploaded) > 0) {
              ctx.rec.add(`transfer.${step}.${path}.bytes`, '', 'count', undefined, `${String(detail.layersNotUploaded)} layers already in the registry or mounted from an earlier run's repository: not uploaded`);
            }
            samples.push({ rep, path, step, seconds, wire, hostSsh: c.ssh, hostRegistry: c.registry, tool, ...detail });
            ctx.log(`transfer ${rep + 1}/${reps} ${path} ${step}: ${seconds.toFixed(2)} s, ${wire} bytes on the wire`);
          }
        }
      }
      const med = (k: string) => ctx.rec.get(k)?.summary.median ?? NaN;
      ctx.rec.add('transfer.change.ratio', 'transfer one-line change: Berth\'s bytes on the wire / the changed layers\' bytes', 'ratio', med('transfer.change.berth.bytes') / changedBytes);
      ctx.rec.add('transfer.change.vsRegistry', 'transfer one-line change: registry path seconds / Berth seconds', 'ratio', med('transfer.change.registry.s') / med('transfer.change.berth.s'));
      ctx.raw('transfer', { changed, changedBytes, imageBytes, samples });
    } finally {
      await onConsole(HOST, `while iptables -D INPUT ${SSH_RULE} 2>/dev/null; do :; done; iptables -S INPUT | grep -q berth-bench-registry && iptables -S INPUT | grep berth-bench-registry | sed 's/^-A/-D/' | xargs -L1 iptables; true`, { allowFail: true });
      await onConsole(HOST, `docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '(^|/)transfer-bench/' | xargs -r docker rmi -f >/dev/null 2>&1; docker image prune -f >/dev/null 2>&1; rm -rf /var/lib/berth/images; true`, { allowFail: true });
      for (const r of refs) await run(['docker', 'image', 'rm', '-f', r], { allowFail: true });
      rmSync(cache, { recursive: true, force: true });
      repo.cleanup();
    }
  });
}
