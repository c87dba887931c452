import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log/logger.ts';
import { redact } from '../../src/log/redact.ts';

const capture = () => {
  const err: string[] = [];
  const out: string[] = [];
  return { err, out, sink: { err: (l: string) => err.push(l), out: (l: string) => out.push(l) } };
};

test('redact replaces every known value, longest first, JSON-escaped forms and PEM lines too', () => {
  assert.equal(redact('token=abc123 and abc1234', ['abc123', 'abc1234']), 'token=[redacted] and [redacted]');
  assert.equal(redact('{"v":"a\\"b"}', ['a"b']), '{"v":"[redacted]"}');
  const pem = '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----';
  assert.equal(redact('line: MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', [pem]), 'line: [redacted]');
  assert.equal(redact('nothing', ['']), 'nothing');
});

test('logger: redacts, times steps, hides commands unless verbose', () => {
  let now = 0;
  const c = capture();
  const log = createLogger({ style: 'ci', sink: c.sink, clock: () => now, secrets: ['s3cr3t-value'] });
  log.info('using s3cr3t-value');
  const end = log.step('upload');
  now = 1500;
  assert.equal(end(), 1500);
  log.command(['docker', 'compose', 'up', 'a b']);
  log.addSecrets(['late-secret']);
  log.warn('late-secret leaked?');
  log.output('result late-secret');
  assert.deepEqual(c.err, ['using [redacted]', '--- upload', '--- done: upload (1.5s)', 'WARN: [redacted] leaked?']);
  assert.deepEqual(c.out, ['result [redacted]']);
  assert.equal(log.events.filter((e) => e.kind === 'command').length, 1);

  const v = capture();
  createLogger({ style: 'terminal', verbose: true, sink: v.sink }).command(['docker', 'compose', 'up', 'a b']);
  assert.deepEqual(v.err, ["$ docker compose up 'a b'"]);
});

test('logger --json: one JSON object per event', () => {
  const c = capture();
  const log = createLogger({ json: true, sink: c.sink, clock: () => 0, secrets: ['pw'] });
  log.error('bad pw');
  assert.deepEqual(c.err.map((l) => JSON.parse(l)), [{ kind: 'error', message: 'bad [redacted]' }]);
});
