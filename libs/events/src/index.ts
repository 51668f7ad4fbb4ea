export * from './database';
export * from './errors';
export * from './event-store';
export * from './lease-store';
export * from './events.module';
export * from './migrator';
export * from './schema';
export * from './session-effects';
