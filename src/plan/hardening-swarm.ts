// The swarm's part of `setup --harden` (PURE): Docker Swarm's ports — 2377/tcp (cluster
// management), 7946/tcp+udp (node gossip), 4789/udp (overlay VXLAN) — open to the other nodes of
// the host's cluster only (their private_ip), as UFW rules in the form `ufw show added` prints them.
export const SWARM_PORTS: readonly (readonly [number, 'tcp' | 'udp'])[] = [
  [2377, 'tcp'],
  [7946, 'tcp'],
  [7946, 'udp'],
  [4789, 'udp'],
];

export function swarmUfwRules(peers: readonly string[]): string[] {
  return [...new Set(peers)].sort().flatMap((p) => SWARM_PORTS.map(([port, proto]) => `ufw allow from ${p} to any port ${port} proto ${proto}`));
}
