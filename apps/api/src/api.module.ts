import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import {
  EventsModule,
  publishCommitted,
  WriteMetrics,
  type DatabaseHandle,
} from '@sessionwire/events';
import { BROKER, type Broker } from '@sessionwire/transport/server';
import type { Cluster, Redis } from 'ioredis';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AuthGuard } from './auth/auth.guard';
import { Authenticator } from './auth/authenticator';
import { TokenService } from './auth/token.service';
import type { ApiConfig } from './config/api-config';
import { API_CONFIG } from './config/config.tokens';
import { AiSdkModule } from './ai-sdk/ai-sdk.module';
import { HealthModule } from './health/health.module';
import { LifecycleService } from './health/lifecycle.service';
import { StreamMetricsService } from './health/stream-metrics.service';
import { LIMITS_REDIS, LimitsService } from './limits/limits.service';
import { loggerOptions } from './logging/logger.options';
import { SessionsModule } from './sessions/sessions.module';
import { StreamsModule } from './streams/streams.module';

/** What the process hands the app: the database and the broker are created and closed outside. */
export interface ApiRuntime {
  database: DatabaseHandle;
  broker: Broker;
  /** Where the message rate limit counts, shared by the nodes; unset: each node counts alone. */
  limitsRedis?: Redis | Cluster;
  /** Where the request and app logs go; stdout when unset. */
  logDestination?: DestinationStream;
}

/** Composes the API: config, runtime handles, auth, sessions, streams, health. */
@Global()
@Module({})
export class ApiModule {
  static forRoot(config: ApiConfig, runtime: ApiRuntime): DynamicModule {
    const metrics = new StreamMetricsService();
    const shared = [
      { provide: API_CONFIG, useValue: config },
      { provide: BROKER, useValue: runtime.broker },
      TokenService,
      Authenticator,
      LifecycleService,
      { provide: StreamMetricsService, useValue: metrics },
      { provide: LIMITS_REDIS, useValue: runtime.limitsRedis },
      LimitsService,
    ];
    return {
      module: ApiModule,
      imports: [
        LoggerModule.forRoot(loggerOptions(config, runtime.logDestination)),
        EventsModule.forHandle(runtime.database, {
          batchMax: config.appendBatchMax,
          commitsMax: config.appendCommitsMax,
          queueMax: config.databaseQueueMax,
          onCommitted: publishCommitted(runtime.broker),
          observer: new WriteMetrics(metrics.registry, () => runtime.database.poolStats?.()),
        }),
        SessionsModule,
        StreamsModule,
        AiSdkModule,
        HealthModule,
      ],
      providers: [...shared, { provide: APP_GUARD, useClass: AuthGuard }],
      exports: [
        API_CONFIG,
        BROKER,
        TokenService,
        Authenticator,
        LifecycleService,
        StreamMetricsService,
        LimitsService,
      ],
    };
  }
}
