import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DATABASE, type DatabaseHandle } from './database';
import { EventStore } from './event-store';
import { LeaseStore } from './lease-store';

/** DI token of the {@link DatabaseHandle} (for health checks and shutdown). */
export const DATABASE_HANDLE = Symbol('DATABASE_HANDLE');

/**
 * Provides the {@link EventStore} and {@link LeaseStore} on a database handle the app creates
 * (node-postgres or PGlite). The app owns the handle's lifetime.
 */
@Module({})
export class EventsModule {
  static forHandle(handle: DatabaseHandle | (() => Promise<DatabaseHandle>)): DynamicModule {
    const handleProvider: Provider =
      typeof handle === 'function'
        ? { provide: DATABASE_HANDLE, useFactory: handle }
        : { provide: DATABASE_HANDLE, useValue: handle };
    return {
      module: EventsModule,
      global: true,
      providers: [
        handleProvider,
        { provide: DATABASE, inject: [DATABASE_HANDLE], useFactory: (h: DatabaseHandle) => h.db },
        EventStore,
        LeaseStore,
      ],
      exports: [DATABASE_HANDLE, DATABASE, EventStore, LeaseStore],
    };
  }
}
