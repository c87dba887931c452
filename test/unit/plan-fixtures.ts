// In-memory projects for render and plan tests (parsed with the real schemas, so defaults apply).
import { appSchema, edgeSchema, hostSchema, type App, type Project } from '../../src/config/schema.ts';

export function makeApp(name: string, config: Record<string, unknown>): App {
  return { name, dir: `/project/apps/${name}`, file: `apps/${name}/app.yml`, config: appSchema.parse(config) };
}

export function makeProject(apps: App[], edge: Record<string, unknown> = {}): Project {
  return {
    root: '/project',
    hosts: {
      h1: hostSchema.parse({ ssh: 'root@192.0.2.1', roles: ['web'] }),
      h2: hostSchema.parse({ ssh: 'root@192.0.2.2', roles: ['db'] }),
    },
    edge: edgeSchema.parse({ acme: { email: 'ops@example.com' }, ...edge }),
    apps,
  };
}

/** Every `${NAME...}` compose interpolation in a rendered file. */
export const interpolated = (text: string) => [...new Set([...text.split('\n').filter((l) => !l.startsWith('#')).join('\n').matchAll(/(?<!\$)\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!))].sort();
