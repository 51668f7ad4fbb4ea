/** DI token of the validated {@link WorkerConfig}. */
export const WORKER_CONFIG = Symbol('WORKER_CONFIG');
