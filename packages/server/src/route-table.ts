/**
 * Which methods each route path answers, collected as routes are registered (fastify's onRoute hook), so the
 * not-found handler can tell a wrong method (405 with Allow) from an unknown path (404), for every route,
 * including those other modules register.
 */
import type { FastifyInstance } from 'fastify';

interface RoutePattern {
  pattern: RegExp;
  methods: Set<string>;
}

export class RouteTable {
  private readonly routes = new Map<string, RoutePattern>();

  constructor(app: FastifyInstance) {
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      let entry = this.routes.get(route.url);
      if (!entry) {
        // ':name' matches one path segment, as fastify's router does.
        const source = route.url
          .split('/')
          .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
        entry = { pattern: new RegExp(`^${source.join('/')}/?$`), methods: new Set() };
        this.routes.set(route.url, entry);
      }
      for (const m of methods) entry.methods.add(m.toUpperCase());
    });
  }

  /** The methods a concrete path answers (empty: no route has this path). */
  methodsFor(path: string): string[] {
    const methods = new Set<string>();
    for (const { pattern, methods: m } of this.routes.values())
      if (pattern.test(path)) for (const x of m) methods.add(x);
    return [...methods].sort();
  }
}
