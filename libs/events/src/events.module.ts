import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DATABASE, type Database, type DatabaseHandle } from './database';
import { EventStore } from './event-store';
import { LeaseStore } from './lease-store';
import { SessionWriter, type WriterOptions } from './write/session-writer';

/** DI token of the {@link DatabaseHandle} (for health checks and shutdown). */
export const DATABASE_HANDLE = Symbol('DATABASE_HANDLE');

/**
 * Provides the {@link EventStore}, {@link LeaseStore} and their {@link SessionWriter} on a
 * database handle the app creates (node-postgres or PGlite). The app owns the handle's lifetime
 * and passes the writer's options (`onCommitted` publishes its hints, `batchMax`, metrics).
 */
@Module({})
export class EventsModule {
  static forHandle(
    handle: DatabaseHandle | (() => Promise<DatabaseHandle>),
    writer: WriterOptions = {},
  ): DynamicModule {
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
        {
          provide: SessionWriter,
          inject: [DATABASE],
          useFactory: (db: Database) => new SessionWriter(db, writer),
        },
        EventStore,
        LeaseStore,
      ],
      exports: [DATABASE_HANDLE, DATABASE, EventStore, LeaseStore, SessionWriter],
    };
  }
}
