// A successful deploy or rollback appends its history entry in the round trip that releases its
// lock: the chained host script (run here through sh, as ssh would), and audited() appending
// nothing more when that part ran, and appending on its own when it did not.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { audited } from '../../src/app/audit.ts';
import type { Deps, Log } from '../../src/app/deps.ts';
import { hostHandle } from '../../src/app/host.ts';
import type { Cmd } from '../../src/docker/command.ts';
import type { Runner, RunResult } from '../../src/docker/runner.ts';
import { HISTORY_APPENDED, historyAppendPart, type HistoryEntry, parseHistory } from '../../src/exec/history.ts';
import { chainScripts, hostScripts, thenOutput } from '../../src/exec/host-scripts.ts';
import { acquireLock } from '../../src/exec/lock.ts';

/** The remote command of an ssh Cmd, run locally through sh (what sshd hands the login shell). */
const runRemote = (cmd: Cmd) => {
  const remote = cmd.argv[cmd.argv.indexOf('--') + 1]!;
  return spawnSync('sh', ['-c', remote], { input: cmd.input, encoding: 'utf8' });
};
const ssh = { user: 'root', address: 'h', port: 22 };

test('the lock release and the history append run in one script: lock gone, one whole line appended', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-release-'));
  const lock = join(dir, 'lock');
  mkdirSync(lock);
  writeFileSync(join(lock, 'holder.json'), '{"pid":1}\n');
  const file = join(dir, 'hist', 'history.jsonl');
  const entry = { at: 't', app: 'shop', host: 'h1', action: 'rollback', outcome: 'ok', user: 'u', machine: 'm', release: "r1 'quoted' $(x)" };
  const r = runRemote(hostScripts.lockRelease(ssh, lock, '{"pid":1}', historyAppendPart(file, entry as HistoryEntry)));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(existsSync(lock), false);
  assert.match(thenOutput(r.stdout)!, new RegExp(HISTORY_APPENDED));
  assert.deepEqual(parseHistory(readFileSync(file, 'utf8')), [entry]);
  // Someone else's lock is left alone; the entry is still recorded.
  mkdirSync(lock);
  writeFileSync(join(lock, 'holder.json'), '{"pid":2}\n');
  const other = runRemote(hostScripts.lockRelease(ssh, lock, '{"pid":1}', historyAppendPart(file, entry as HistoryEntry)));
  assert.match(other.stdout, /^not-ours/);
  assert.equal(existsSync(lock), true);
  assert.equal(parseHistory(readFileSync(file, 'utf8')).length, 2);
});

function fakeDeps(calls: Cmd[]): Deps {
  const runner: Runner = {
    count: 0,
    dryRun: false,
    run: async (cmd): Promise<RunResult> => {
      calls.push(cmd);
      return { stdout: '', stderr: '', exitCode: 0 };
    },
  };
  const log = { info() {}, warn() {}, error() {}, step: () => () => 0, addSecrets() {}, output() {} } as unknown as Log;
  return { root: '/x', runner, log, env: {}, now: () => new Date('2026-12-07T00:00:00Z'), gitCommit: async () => undefined, shell: async () => ({ exitCode: 0, stdout: '', stderr: '' }) };
}

test('audited: an entry appended with the lock release is not appended again; one whose part did not run is', async () => {
  const h = hostHandle('h1', { ssh: 'root@h:22', roles: ['web'] } as never);
  for (const [output, extraAppends] of [[`${HISTORY_APPENDED}\n`, 0], [undefined, 1]] as const) {
    const calls: Cmd[] = [];
    let entryArg = '';
    await audited(fakeDeps(calls), h, 'shop', 'rollback', [], { release: 'r1' }, async (audit) => {
      const outcome = { result: 'deployed', release: 'r1', previous: 'r0' };
      entryArg = audit.successPart(outcome).args[1]!;
      audit.appended(output);
      return outcome;
    });
    const e = JSON.parse(entryArg) as Record<string, string>;
    assert.deepEqual([e.app, e.host, e.action, e.outcome, e.release, e.previous], ['shop', 'h1', 'rollback', 'ok', 'r1', 'r0']);
    assert.equal(calls.length, extraAppends, `output ${JSON.stringify(output)}`);
  }
});

test('the lock released in another round trip (record + retire + release + history): release() then does nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-release-'));
  const lockDir = join(dir, 'lock');
  const file = join(dir, 'history.jsonl');
  // A runner that runs every ssh Cmd's remote script locally.
  const ran: string[] = [];
  const runner: Runner = {
    count: 0,
    dryRun: false,
    run: async (cmd): Promise<RunResult> => {
      const r = runRemote(cmd);
      ran.push(cmd.argv.at(-1)!.slice(0, 40));
      return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status ?? 1 };
    },
  };
  const lock = await acquireLock(runner, ssh, lockDir, 'rollback shop', { host: 'h1', app: 'shop', now: new Date() });
  assert.equal(existsSync(lockDir), true);
  const entry = { at: 't', app: 'shop', host: 'h1', action: 'rollback', outcome: 'ok', user: 'u', machine: 'm', release: 'r1' } as HistoryEntry;
  const retire = { script: 'echo scheduled', args: [] };
  // The retire and the release as rollback chains them after its record's untar.
  const part = chainScripts(retire, lock.releasePart(historyAppendPart(file, entry)));
  const chained = spawnSync('sh', ['-c', part.script, 'berth', ...part.args], { encoding: 'utf8' });
  assert.equal(chained.status, 0, chained.stderr);
  assert.match(chained.stdout, /^scheduled\n--then\nreleased\n/);
  const history = lock.settled(thenOutput(chained.stdout));
  assert.match(history!, new RegExp(HISTORY_APPENDED));
  assert.equal(existsSync(lockDir), false);
  const before = ran.length;
  assert.equal(await lock.release(historyAppendPart(file, entry)), history, 'the history output of the round trip that released it');
  assert.equal(ran.length, before, 'no round trip');
  assert.equal(parseHistory(readFileSync(file, 'utf8')).length, 1, 'appended once');
  assert.equal(lock.settled('scheduled\n'), undefined, 'output that is not the release part\'s');
});
