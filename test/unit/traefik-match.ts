// A model of Traefik's rule matching for the rules Berth renders (test helper): which router a
// request reaches is the highest priority among those whose rule matches; a tie is ambiguous.
import assert from 'node:assert/strict';

export type Router = { rule: string; priority: number; entryPoints: string[]; middlewares?: string[]; service: string; tls?: unknown };
type Req = { host: string; path: string };
/** Evaluate the subset of Traefik's rule language Berth renders: Host, HostRegexp, Path, PathPrefix, ||, &&, (). */
export function matches(rule: string, req: Req): boolean {
  let i = 0;
  const ws = () => {
    while (rule[i] === ' ') i++;
  };
  const atom = (): boolean => {
    ws();
    if (rule[i] === '(') {
      i++;
      const v = or();
      ws();
      assert.equal(rule[i], ')', `")" at ${i} in ${rule}`);
      i++;
      return v;
    }
    const m = /^(Host|HostRegexp|Path|PathPrefix)\(`([^`]*)`\)/.exec(rule.slice(i));
    assert.ok(m, `a matcher at ${i} in ${rule}`);
    i += m[0].length;
    const [, fn, arg] = m;
    if (fn === 'Host') return req.host === arg;
    if (fn === 'HostRegexp') return new RegExp(arg!).test(req.host);
    if (fn === 'Path') return req.path === arg;
    return req.path.startsWith(arg!);
  };
  const and = (): boolean => {
    let v = atom();
    for (ws(); rule.startsWith('&&', i); ws()) {
      i += 2;
      v = atom() && v;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    for (ws(); rule.startsWith('||', i); ws()) {
      i += 2;
      v = and() || v;
    }
    return v;
  };
  const v = or();
  ws();
  assert.equal(i, rule.length, `whole rule parsed: ${rule}`);
  return v;
}

/** The router Traefik picks on an entry point: the highest priority among those that match (a tie is ambiguous). */
export function pick(routers: Record<string, Router>, entryPoint: string, req: Req): string | undefined {
  const hits = Object.entries(routers).filter(([, r]) => r.entryPoints.includes(entryPoint) && matches(r.rule, req));
  if (!hits.length) return undefined;
  hits.sort((a, b) => b[1].priority - a[1].priority);
  assert.ok(hits.length === 1 || hits[0]![1].priority > hits[1]![1].priority, `tie between ${hits.map(([n]) => n).join(', ')} for ${req.host}${req.path}`);
  return hits[0]![0];
}

