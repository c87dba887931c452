// No import cycles in src/: a module's value imports (not `import type`, not lazy `import()`) never
// lead back to it. A cycle makes load order decide what is undefined at start-up.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../src/sandbox/paths.ts';

function graph(): Map<string, string[]> {
  const src = join(REPO_ROOT, 'src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ts|mjs)$/.test(f)).map((f) => join(src, f));
  const g = new Map<string, string[]>();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const deps = [...text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s+'(\.[^']+)'/gm)].map((m) => normalize(join(dirname(f), m[1]!)));
    g.set(f, deps.filter((d) => files.includes(d)));
  }
  return g;
}

/** Strongly connected components of more than one module (Tarjan). */
function cycles(g: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let i = 0;
  const visit = (v: string) => {
    index.set(v, i);
    low.set(v, i++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) out.push(c.map((f) => relative(REPO_ROOT, f)).sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return out;
}

test('src/ has no import cycles', () => {
  assert.deepEqual(cycles(graph()), []);
});

test('the detector finds a cycle when there is one', () => {
  const g = new Map([['/a.ts', ['/b.ts']], ['/b.ts', ['/c.ts']], ['/c.ts', ['/a.ts']], ['/d.ts', ['/a.ts']]]);
  assert.equal(cycles(g).length, 1);
  assert.equal(cycles(g)[0]!.length, 3);
});
