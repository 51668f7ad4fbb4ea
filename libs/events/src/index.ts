export * from './database';
export * from './errors';
export * from './event-store';
export * from './lease-store';
export * from './events.module';
export * from './migrator';
export * from './partition-maintenance';
export * from './retention';
export * from './schema';
export * from './session-effects';
export * from './batched-history';
export { SessionWriter, type WriterOptions } from './write/session-writer';
export type { CommitHook, WriteObserver } from './write/write-pipeline';
export { publishCommitted, workHintsOf } from './write/commit-hints';
export { WriteMetrics } from './write/write-metrics';
export {
  CommitFailedError,
  InputAlreadyProcessedError,
  InvalidEventError,
  WriteQueueFullError,
} from './write/write-errors';
export { databaseErrorMessage, isDatabaseUnavailable, neverReachedServer } from './unavailable';
