// The engine seam's step runner (src/engine/steps.ts): steps run in order and are timed, a skipped
// step does not run, and a failing step's error names the step and what is left serving; a failure
// while the target does not answer is a lost connection. Plus the dispatch of an app to its engine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deps, Log } from '../../src/app/deps.ts';
import { engineName } from '../../src/engine/engine.ts';
import { runSteps, type Step } from '../../src/engine/steps.ts';
import { CommandError, ConnectionLostError, StepError } from '../../src/errors.ts';
import { makeApp } from './plan-fixtures.ts';

function deps(): { deps: Deps; lines: string[] } {
  const lines: string[] = [];
  const log: Log = {
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
    step: (name) => {
      lines.push(`start ${name}`);
      return (_note, failed) => {
        lines.push(`${failed ? 'failed' : 'done'} ${name}`);
        return 1;
      };
    },
    addSecrets: () => {},
    output: (t) => lines.push(`out ${t}`),
  };
  return { deps: { root: '/p', runner: { run: async () => ({ stdout: '', stderr: '', exitCode: 0 }), count: 0, dryRun: false }, log, env: {}, now: () => new Date(0), gitCommit: async () => undefined, shell: async () => ({ exitCode: 0, stdout: '', stderr: '' }) }, lines };
}

interface S {
  ran: string[];
  serving: string;
}

const steps = (fail?: Error): Step<S>[] => [
  { name: 'one', leaves: (s) => `${s.serving} keeps serving`, run: async (s) => void s.ran.push('one') },
  { name: 'skipped', skip: () => true, leaves: () => 'x', run: async (s) => void s.ran.push('skipped') },
  {
    name: 'two',
    leaves: (s) => `Nothing switched: ${s.serving} keeps serving.`,
    run: async (s) => {
      s.ran.push('two');
      if (fail) throw fail;
    },
  },
  { name: 'three', leaves: () => 'new release live', run: async (s) => void s.ran.push('three') },
];

test('steps run in order, skipped ones do not, each is timed', async () => {
  const { deps: d, lines } = deps();
  const s: S = { ran: [], serving: 'v1' };
  const timings = await runSteps(d, { name: 'main', reachable: async () => true }, steps(), s);
  assert.deepEqual(s.ran, ['one', 'two', 'three']);
  assert.deepEqual(Object.keys(timings), ['one', 'two', 'three']);
  assert.deepEqual(lines, ['start main: one', 'done main: one', 'start main: two', 'done main: two', 'start main: three', 'done main: three']);
});

test("a failing step names itself and what is left serving, and stops the list", async () => {
  const { deps: d, lines } = deps();
  const s: S = { ran: [], serving: 'v1' };
  const err = await runSteps(d, { name: 'main', reachable: async () => true }, steps(new CommandError(['docker', 'stack', 'deploy'], 1, 'no such network')), s).catch((e: unknown) => e);
  assert.ok(err instanceof StepError);
  assert.match(err.message, /^two \(main\): .*docker stack deploy/);
  assert.match(err.message, /Nothing switched: v1 keeps serving\.$/);
  assert.deepEqual(s.ran, ['one', 'two']);
  assert.ok(lines.includes('failed main: two'));
});

test('a failure while the target does not answer is a lost connection, naming the step and the state', async () => {
  const { deps: d } = deps();
  const err = await runSteps(d, { name: 'main', reachable: async () => false }, steps(new Error('ssh: broken pipe')), { ran: [], serving: 'v1' }).catch((e: unknown) => e);
  assert.ok(err instanceof ConnectionLostError, String(err));
  assert.match((err as Error).message, /two/);
  assert.match((err as Error).message, /Nothing switched: v1 keeps serving/);
});

test('an app goes to the engine its config names', () => {
  assert.equal(engineName(makeApp('a', { image: 'x', hosts: ['h1'] })), 'host');
  assert.equal(engineName(makeApp('b', { image: 'x', cluster: 'main' })), 'swarm');
});
