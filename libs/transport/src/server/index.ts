export * from './broker';
export * from './memory-broker';
export * from './redis-broker';
