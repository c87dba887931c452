// Certificate health for `status` (PURE): per domain per host, red within CERT_RED_DAYS of expiry,
// when the host serves nothing verifiable, or when hosts serve different certificates for one domain.

export const CERT_RED_DAYS = 14;

export interface CertObservation {
  host: string;
  domain: string;
  expires?: string;
  /** SHA-256 fingerprint of the served certificate. */
  fingerprint?: string;
  issuer?: string;
  error?: string;
}

export interface CertHealth extends CertObservation {
  state: 'ok' | 'red';
  daysLeft?: number;
  reasons: string[];
}

const DAY = 86_400_000;
const short = (fp: string) => fp.replace(/:/g, '').slice(0, 12).toLowerCase();

export function evaluateCertHealth(obs: CertObservation[], now: Date, redDays = CERT_RED_DAYS): CertHealth[] {
  const byDomain = new Map<string, CertObservation[]>();
  for (const o of obs) byDomain.set(o.domain, [...(byDomain.get(o.domain) ?? []), o]);
  return obs.map((o) => {
    const reasons: string[] = [];
    let daysLeft: number | undefined;
    if (o.error) reasons.push(`no certificate read: ${o.error}`);
    else if (!o.expires || Number.isNaN(Date.parse(o.expires))) reasons.push('no expiry date');
    else {
      daysLeft = Math.floor((Date.parse(o.expires) - now.getTime()) / DAY);
      if (daysLeft < 0) reasons.push(`expired ${o.expires.slice(0, 10)}`);
      else if (daysLeft <= redDays) reasons.push(`expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'} (${o.expires.slice(0, 10)}; red within ${redDays})`);
    }
    const peers = (byDomain.get(o.domain) ?? []).filter((x) => x.fingerprint);
    const prints = new Set(peers.map((x) => x.fingerprint));
    if (o.fingerprint && prints.size > 1) {
      reasons.push(`hosts serve different certificates for ${o.domain} (${peers.map((x) => `${x.host} ${short(x.fingerprint!)}`).join(', ')})`);
    }
    return { ...o, state: reasons.length ? 'red' : 'ok', ...(daysLeft !== undefined ? { daysLeft } : {}), reasons };
  });
}
