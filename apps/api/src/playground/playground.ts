import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AGENTS } from '@sessionwire/agents';
import type { NextFunction, Request, Response } from 'express';
import type { ApiConfig } from '../config/api-config';
import { authDisabled } from '../config/api-config';

/** Where `npm run build` puts the page and the SDK bundle (dist/playground). */
export function playgroundDir(): string | undefined {
  const candidates = [
    resolve(__dirname, '../../playground'), // dist/apps/<app>/main.js
    resolve(__dirname, '../../../../dist/playground'), // apps/api/src/playground (tests)
  ];
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

/** What the page needs to know about this server. */
export function playgroundConfig(config: ApiConfig) {
  return {
    agents: config.agents.map((name) => ({ name, description: AGENTS[name]?.description ?? '' })),
    authRequired: !authDisabled(config),
    heartbeatMs: config.heartbeatMs,
    maxMessageBytes: config.maxMessageBytes,
  };
}

/**
 * Serves the playground: the page at `/`, its script and style under `/playground/`, the SDK bundle
 * under `/sdk/` and `/playground/config.json`. Plain Express routes beneath Nest, so they stay out
 * of the OpenAPI document, like `/docs`. Returns false (and serves nothing) without the built files.
 */
export function mountPlayground(
  app: NestExpressApplication,
  config: ApiConfig,
  dir = playgroundDir(),
): boolean {
  if (!dir) return false;
  const files = { index: false, fallthrough: true, redirect: false } as const;
  const body = JSON.stringify(playgroundConfig(config));
  app.use('/playground/config.json', (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    res.set('cache-control', 'no-store').type('application/json').send(body);
  });
  app.useStaticAssets(join(dir, 'assets'), { ...files, prefix: '/playground/' });
  app.useStaticAssets(join(dir, 'sdk'), { ...files, prefix: '/sdk/' });
  const page = join(dir, 'index.html');
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.path !== '/' || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    res.set('cache-control', 'no-cache').sendFile(page);
  });
  return true;
}
