export * from './sessions.table';
export * from './events.table';
export * from './message-keys.table';
