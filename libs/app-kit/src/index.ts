/**
 * What the three apps (api, worker, standalone) share at their edges: reading the environment
 * into a typed config, starting, and stopping on signals. Nothing here reads `process.env`: each
 * app's config module is handed the environment once, in its `main.ts`.
 */
export * from './config/read-env';
export * from './config/parsers';
export * from './config/cluster-seeds';
export * from './config/connections';
export * from './process/graceful-shutdown';
export * from './process/run-main';
