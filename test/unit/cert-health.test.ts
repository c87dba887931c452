import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateCertHealth } from '../../src/plan/cert-health.ts';

const now = new Date('2027-01-01T00:00:00Z');
const inDays = (d: number) => new Date(now.getTime() + d * 86_400_000).toISOString();

test('ok far from expiry; red within 14 days, when expired or unreadable', () => {
  const h = evaluateCertHealth(
    [
      { host: 'h1', domain: 'a.example', expires: inDays(60), fingerprint: 'AA' },
      { host: 'h1', domain: 'b.example', expires: inDays(15), fingerprint: 'BB' },
      { host: 'h1', domain: 'c.example', expires: inDays(14), fingerprint: 'CC' },
      { host: 'h1', domain: 'd.example', expires: inDays(-1), fingerprint: 'DD' },
      { host: 'h1', domain: 'e.example', error: 'connect ECONNREFUSED' },
    ],
    now,
  );
  assert.deepEqual(h.map((x) => x.state), ['ok', 'ok', 'red', 'red', 'red']);
  assert.equal(h[0]!.daysLeft, 60);
  assert.deepEqual(h[2]!.reasons, ['expires in 14 days (2027-01-15; red within 14)']);
  assert.deepEqual(h[3]!.reasons, ['expired 2026-12-31']);
  assert.deepEqual(h[4]!.reasons, ['no certificate read: connect ECONNREFUSED']);
});

test('red on every host when hosts serve different certificates for one domain', () => {
  const h = evaluateCertHealth(
    [
      { host: 'h1', domain: 'a.example', expires: inDays(60), fingerprint: 'AB:CD:EF:01:23:45:67:89' },
      { host: 'h2', domain: 'a.example', expires: inDays(61), fingerprint: '12:34:56:78:9A:BC:DE:F0' },
      { host: 'h1', domain: 'b.example', expires: inDays(60), fingerprint: 'FF' },
      { host: 'h2', domain: 'b.example', expires: inDays(60), fingerprint: 'FF' },
    ],
    now,
  );
  assert.deepEqual(h.map((x) => x.state), ['red', 'red', 'ok', 'ok']);
  assert.deepEqual(h[0]!.reasons, ['hosts serve different certificates for a.example (h1 abcdef012345, h2 123456789abc)']);
});
