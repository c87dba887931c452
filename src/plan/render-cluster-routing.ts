// Traefik file-provider routes of a cluster app (PURE): the per-host routes (render-routing.ts),
// with every router that served the app's file-provider service pointed at the colour's
// load-balancer service that Traefik's swarm provider defines from the stack's deploy.labels
// (`<app>-<colour>@swarm`: the addresses of the colour's running, i.e. healthy, tasks). The switch
// is still one file rename per edge node; a retry middleware resends a request whose connection
// to a task failed (a node that just died) to another task.
import YAML from 'yaml';
import type { App } from '../config/schema.ts';
import { type Colour, swarmTraefikService, traefikService } from '../names.ts';
import { renderRouting } from './render-routing.ts';
import { generatedHeader, toYaml } from './yaml.ts';

export const retryMiddleware = (app: string) => `${traefikService(app)}-retry`;

interface Routing {
  http?: { routers?: Record<string, { service?: string; middlewares?: string[] }>; middlewares?: Record<string, unknown>; services?: Record<string, unknown> };
  [k: string]: unknown;
}

export function renderClusterRouting(app: App, colour: Colour): string {
  const doc = YAML.parse(renderRouting(app, colour)) as Routing;
  const http = (doc.http ??= {});
  const own = traefikService(app.name);
  const target = `${swarmTraefikService(app.name, colour)}@swarm`;
  const retry = retryMiddleware(app.name);
  for (const r of Object.values(http.routers ?? {})) {
    if (r.service !== own) continue;
    r.service = target;
    // Innermost: redirects answer before it; only requests for the app's tasks are retried.
    r.middlewares = [...(r.middlewares ?? []), retry];
  }
  // Only connection failures are retried (Traefik never resends after a task answered).
  http.middlewares = { ...(http.middlewares ?? {}), [retry]: { retry: { attempts: 4, initialInterval: '50ms' } } };
  http.middlewares = Object.fromEntries(Object.keys(http.middlewares).sort().map((k) => [k, http.middlewares![k]]));
  if (http.services) {
    delete http.services[own];
    if (!Object.keys(http.services).length) delete http.services;
  }
  return toYaml(doc, generatedHeader(app.file, `Traefik dynamic config of ${app.name} on the cluster's edge, routing to the ${colour} colour's tasks (${target}).`));
}
