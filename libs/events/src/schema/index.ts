export * from './sessions.table';
export * from './events.table';
