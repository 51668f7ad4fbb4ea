import { Module, type DynamicModule } from '@nestjs/common';
import {
  EventsModule,
  publishCommitted,
  WriteMetrics,
  type DatabaseHandle,
} from '@sessionwire/events';
import { BROKER, type Broker } from '@sessionwire/transport/server';
import { LoggerModule } from 'nestjs-pino';
import { AgentRegistry, BUILT_IN_AGENTS, type AgentFactory } from '@sessionwire/agents';
import { WORKER_CONFIG, type WorkerConfig } from './config/worker-config';
import { WorkerMetrics } from './metrics/worker-metrics';
import { WorkerService } from './worker.service';

export interface WorkerModuleOptions {
  config: WorkerConfig;
  database: DatabaseHandle;
  broker: Broker;
  /** Runtimes besides the built-in ones, by agent name. */
  agents?: Readonly<Record<string, AgentFactory>>;
  /** Also collect the process's default metrics (CPU, memory, event loop). */
  defaultMetrics?: boolean;
}

/** The worker: no controllers; everything runs from {@link WorkerService}. */
@Module({})
export class WorkerModule {
  static forRoot(options: WorkerModuleOptions): DynamicModule {
    const { config } = options;
    const metrics = new WorkerMetrics(options);
    return {
      module: WorkerModule,
      imports: [
        EventsModule.forHandle(options.database, {
          batchMax: config.appendBatchMax,
          commitsMax: config.appendCommitsMax,
          queueMax: config.databaseQueueMax,
          onCommitted: publishCommitted(options.broker),
          observer: new WriteMetrics(metrics.registry, () => options.database.poolStats?.()),
        }),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            name: 'sessionwire-worker',
            base: { workerId: config.workerId },
          },
        }),
      ],
      providers: [
        { provide: WORKER_CONFIG, useValue: config },
        { provide: BROKER, useValue: options.broker },
        { provide: WorkerMetrics, useValue: metrics },
        {
          provide: AgentRegistry,
          useFactory: () =>
            new AgentRegistry({ openai: config.openai }, { ...BUILT_IN_AGENTS, ...options.agents }),
        },
        WorkerService,
      ],
      exports: [WorkerService, WorkerMetrics, AgentRegistry],
    };
  }
}
