import type { Request } from 'express';
import { STREAM_METHODS, streamPathId } from '../streams/stream-path';

interface RouteLayer {
  match(path: string): boolean;
  route?: { path: string; methods: Record<string, boolean> };
}

/**
 * The methods the app accepts for `path` (empty when no route matches), its router's and the
 * stream route's (served beneath Express): turns a miss on a known path into 405 with `Allow`
 * instead of 404.
 */
export function allowedMethods(req: Request): string[] {
  const router = (req.app as unknown as { router?: { stack?: RouteLayer[] } }).router;
  const methods = new Set<string>(streamPathId(req.path) === undefined ? [] : STREAM_METHODS);
  for (const layer of router?.stack ?? []) {
    // Catch-all layers (the not-found handler) match everything and say nothing about routes.
    if (!layer.route || layer.route.path.includes('*')) continue;
    if (!layer.match(req.path)) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all') methods.add(method.toUpperCase());
    }
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}
