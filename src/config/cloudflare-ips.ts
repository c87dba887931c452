// Cloudflare's published edge ranges (https://www.cloudflare.com/ips-v4 and /ips-v6), the sources
// whose X-Forwarded-For Traefik trusts when shared/edge.yml says `trusted_ips: [cloudflare]`.
// Keep current: replace both lists with the published ones and update TAKEN (the date they were copied).
// This copy: the lists as published since Cloudflare's 2023 change (104.16.0.0/12 → /13 + 104.24.0.0/14),
// taken 2026-12-01 from copies of the published lists (this machine has no internet access).

export const CLOUDFLARE_IPS_TAKEN = '2026-12-01';

export const CLOUDFLARE_IPV4: readonly string[] = [
  '173.245.48.0/20',
  '103.21.244.0/22',
  '103.22.200.0/22',
  '103.31.4.0/22',
  '141.101.64.0/18',
  '108.162.192.0/18',
  '190.93.240.0/20',
  '188.114.96.0/20',
  '197.234.240.0/22',
  '198.41.128.0/17',
  '162.158.0.0/15',
  '104.16.0.0/13',
  '104.24.0.0/14',
  '172.64.0.0/13',
  '131.0.72.0/22',
];

export const CLOUDFLARE_IPV6: readonly string[] = [
  '2400:cb00::/32',
  '2606:4700::/32',
  '2803:f800::/32',
  '2405:b500::/32',
  '2405:8100::/32',
  '2a06:98c0::/29',
  '2c0f:f248::/32',
];

export const CLOUDFLARE_RANGES: readonly string[] = [...CLOUDFLARE_IPV4, ...CLOUDFLARE_IPV6];
