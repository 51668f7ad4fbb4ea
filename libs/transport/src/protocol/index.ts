export * from './states';
export * from './events';
export * from './frames';
export * from './api';
export * from './limits';
