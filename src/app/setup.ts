// `berth setup <host>`: install Docker Engine + the Compose plugin on the host when missing (over
// SSH, with its package manager), check their versions on the host, create the shared network,
// upload and start (or update) the shared edge: Traefik + ACME + read-only socket proxy.
// Idempotent: a provisioned host and an unchanged edge are left untouched.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadProject } from '../config/load.ts';
import { requireHost } from '../config/host-filter.ts';
import { resolveEdgeSecrets } from '../config/secrets.ts';
import { compose, composeArgv, dockerCmd } from '../docker/argv.ts';
import { write } from '../docker/command.ts';
import { ConfigError, StepError } from '../errors.ts';
import { hostScripts, thenOutput } from '../exec/host-scripts.ts';
import { edgeIncoming, swapEdgeSecrets } from '../exec/edge-scripts.ts';
import { type MemoryEntry, packUpload } from '../exec/transfer.ts';
import { clusterTransportFile, EDGE_ACME_DIR, EDGE_CERTS_DIR, EDGE_DIR, EDGE_DYNAMIC_DIR, EDGE_PROJECT, EDGE_SECRETS_DIR, NETWORK, TRAEFIK_SERVICE } from '../names.ts';
import { renderEdge } from '../plan/render-edge.ts';
import { renderClusterEdge, renderClusterTransport } from '../plan/render-cluster-edge.ts';
import { clustersOf, setupCluster } from './cluster-setup.ts';
import type { Project } from '../config/schema.ts';
import { renderHardening } from '../plan/render-hardening.ts';
import { accessoryOpenings } from '../plan/placement.ts';
import { accessoryOpeningIssues } from '../config/rules.ts';
import { MIN_COMPOSE, parseProvisionReport, renderDockerInstall, versionAtLeast, versionProblems } from '../plan/render-provision.ts';
import { localComposeVersion } from '../docker/compose-version.ts';
import type { Deps } from './deps.ts';
import { ensureContext, hostHandle } from './host.ts';

export async function setup(deps: Deps, opts: { host?: string; harden?: boolean }): Promise<string[]> {
  const project = await loadProject(deps.root);
  const names = opts.host ? [opts.host] : Object.keys(project.hosts);
  for (const n of names) requireHost(project.hosts, n);
  const plainEdge = { render: renderEdge(project), localDir: join(deps.root, 'compose', 'edge') };
  // A cluster manager's edge also reads the swarm (render-cluster-edge.ts).
  const clusterEdge = { render: renderClusterEdge(project), localDir: join(deps.root, 'compose', 'edge-cluster') };
  for (const e of Object.keys(project.clusters ?? {}).length ? [plainEdge, clusterEdge] : [plainEdge]) {
    await mkdir(e.localDir, { recursive: true });
    for (const f of e.render.files) await writeFile(join(e.localDir, f.path), f.content);
  }
  const secrets = await resolveEdgeSecrets(plainEdge.render.secrets, deps.env);
  deps.log.addSecrets(Object.values(secrets));

  // Berth runs `docker compose` on this machine, through each host's SSH context: check it here too.
  const local = await localComposeVersion().catch((e: Error) => {
    throw new StepError('setup', `${e.message}\nBerth runs docker compose on this machine (through each host's SSH context): install the Docker CLI and the Compose v2 plugin here, then rerun setup.`);
  });
  if (!versionAtLeast(local, MIN_COMPOSE)) {
    throw new StepError('setup', `Docker Compose ${local} on this machine is older than ${MIN_COMPOSE}; Berth runs compose here through each host's SSH context: upgrade the plugin here, then rerun setup.`);
  }
  deps.log.info(`docker compose ${local} on this machine`);

  for (const n of names) {
    const h = hostHandle(n, project.hosts[n]!);
    let end = deps.log.step(`${n}: docker engine + compose plugin`);
    const prov = await deps.runner.run(hostScripts.run(h.ssh, renderDockerInstall()), { allowFailure: true });
    if (prov.exitCode !== 0) {
      throw new StepError('setup', `installing Docker on ${n} failed (exit ${prov.exitCode}): ${prov.stderr.trim().split('\n').slice(-5).join('\n')}\nCheck that "ssh ${h.config.ssh}" works and the host's apt can reach its mirror; then rerun setup.`);
    }
    const report = parseProvisionReport(prov.stdout);
    const problems = versionProblems(report);
    if (problems.length) throw new StepError('setup', `${n}: ${problems.join('; ')}.\nInstall a newer Docker Engine and the Compose v2 plugin on the host (e.g. from Docker's apt repository), then rerun setup.`);
    end(`${report.installed ? 'installed, ' : ''}engine ${report.engine}, compose ${report.compose} (on the host)`);

    end = deps.log.step(`${n}: docker context ${h.context}`);
    await ensureContext(deps.runner, h);
    const engine = await deps.runner.run(dockerCmd.info(h.context), { allowFailure: true });
    if (engine.exitCode !== 0) throw new StepError('setup', `Docker is not reachable on ${n} through context ${h.context}: ${engine.stderr.trim()}\nCheck that "ssh ${h.config.ssh} docker info" works.`);
    end();

    if (opts.harden) {
      end = deps.log.step(`${n}: harden (ufw, fail2ban, key-only ssh)`);
      // Plus the ports of accessories other hosts reach here, from their private_ips only (placement).
      const unknown = accessoryOpeningIssues(project, n);
      if (unknown.length) throw new ConfigError(unknown);
      const openings = accessoryOpenings(project.apps, project.hosts, n);
      await deps.runner.run(hostScripts.run(h.ssh, renderHardening(h.config, openings, { swarmPeers: swarmPeers(project, n) })));
      for (const o of openings) deps.log.info(`${n}: ${o.app}'s ${o.accessory} on ${o.address}:${o.port} admits ${o.sources.join(', ')} only`);
      end();
    }
  }

  // Swarm clusters form once their hosts have Docker, before their managers' edge starts (it
  // joins the cluster's overlay network).
  for (const [name, cluster] of clustersOf(project, names)) await setupCluster(deps, project, name, cluster);

  for (const n of names) {
    const h = hostHandle(n, project.hosts[n]!);
    const { render, localDir } = managerOf(project, n) ? clusterEdge : plainEdge;
    let end = deps.log.step(`${n}: network ${NETWORK}`);
    const net = await deps.runner.run(dockerCmd.networkInspect(h.context, NETWORK), { allowFailure: true });
    if (net.exitCode !== 0) await deps.runner.run(dockerCmd.networkCreate(h.context, NETWORK));
    end();

    end = deps.log.step(`${n}: upload edge files`);
    const extra: MemoryEntry[] = [
      { path: EDGE_DIR, type: 'directory', mode: 0o755 },
      { path: EDGE_DYNAMIC_DIR, type: 'directory', mode: 0o755 },
      { path: EDGE_ACME_DIR, type: 'directory', mode: 0o700 },
      { path: EDGE_CERTS_DIR, type: 'directory', mode: 0o700 },
      { path: EDGE_SECRETS_DIR, type: 'directory', mode: 0o700 },
      ...render.files.map((f) => ({ path: `${EDGE_DIR}/${f.path}`, content: f.content, mode: f.mode ?? 0o644 })),
      ...(managerOf(project, n) ? [{ path: clusterTransportFile, content: renderClusterTransport(), mode: 0o644 }] : []),
      { path: edgeIncoming(EDGE_SECRETS_DIR), type: 'directory', mode: 0o700 },
      ...Object.entries(secrets).map(([k, v]) => ({ path: `${edgeIncoming(EDGE_SECRETS_DIR)}/${k}`, content: v, mode: 0o600 })),
    ];
    if (project.edge.acme.ca_root) {
      const pem = await readFile(resolve(deps.root, 'shared', project.edge.acme.ca_root), 'utf8');
      extra.push({ path: `${EDGE_DIR}/ca`, type: 'directory', mode: 0o755 }, { path: `${EDGE_DIR}/ca/root.pem`, content: pem, mode: 0o644 });
    }
    // Existing directories keep their content: tar only (re)sets the modes listed here.
    const up = await deps.runner.run(hostScripts.untar(h.ssh, swapEdgeSecrets(EDGE_SECRETS_DIR)), { stdinStream: packUpload(undefined, undefined, extra) });
    const secretsChanged = /^secrets-changed$/m.test(thenOutput(up.stdout) ?? '');
    end();

    end = deps.log.step(`${n}: start edge`);
    const target = { context: h.context, project: EDGE_PROJECT, files: [join(localDir, 'compose.yml')] };
    await deps.runner.run(compose.upWait(target, [], 120));
    // lego read the old credentials when Traefik started: a changed value needs a new Traefik.
    if (secretsChanged) await deps.runner.run(write(composeArgv(target, ['up', '-d', '--no-deps', '--force-recreate', '--wait', '--wait-timeout', '120', TRAEFIK_SERVICE])));
    end(secretsChanged ? 'restarted Traefik: an edge secret changed' : undefined);
  }
  return names;
}

/** Is this host a manager of a cluster (its edge routes to the cluster's tasks)? */
const managerOf = (project: Project, host: string) => Object.values(project.clusters ?? {}).some((c) => c.managers.includes(host));

/** The private addresses of the other nodes of the host's cluster (hardening opens the swarm ports to them only). */
export const swarmPeers = (project: Project, host: string): string[] =>
  Object.values(project.clusters ?? {}).filter((c) => c.hosts.includes(host)).flatMap((c) => c.hosts.filter((x) => x !== host).map((x) => project.hosts[x]?.private_ip).filter((a): a is string => !!a));
