import { Controller, Get, Header, Inject, Logger, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DATABASE_HANDLE, type DatabaseHandle } from '@sessionwire/events';
import { BROKER, isProbedBroker, type Broker } from '@sessionwire/transport/server';
import type { Response } from 'express';
import { RequireAccess } from '../auth/access.decorator';
import { ApiProblem } from '../errors/problem';
import { LifecycleService } from './lifecycle.service';
import { StreamMetricsService } from './stream-metrics.service';

const CHECK_TIMEOUT_MS = 2000;

async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

@ApiTags('health')
@Controller()
export class HealthController {
  private readonly logger = new Logger('Health');

  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly metrics: StreamMetricsService,
    @Inject(DATABASE_HANDLE) private readonly database: DatabaseHandle,
    @Inject(BROKER) private readonly broker: Broker,
  ) {}

  @Get('healthz')
  @RequireAccess('public')
  @ApiOperation({ summary: 'Liveness: 200 until the process exits' })
  @ApiResponse({ status: 200, schema: { $ref: '#/components/schemas/Health' } })
  healthz(): { status: string } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @RequireAccess('public')
  @ApiOperation({
    summary:
      'Readiness: 503 while draining or when Postgres/Redis are unreachable; a Redis Cluster reports its state',
  })
  @ApiResponse({ status: 200, schema: { $ref: '#/components/schemas/Health' } })
  @ApiResponse({
    status: 503,
    description: 'unavailable (Retry-After)',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  })
  async readyz(): Promise<{ status: string; redisCluster?: { state: string; masters: number } }> {
    // Readiness reports; it is not itself the fault (a dependency's failure is logged below).
    const unavailable = (detail: string, expected: 'info' | 'warn' = 'warn') =>
      new ApiProblem('unavailable', detail, { 'Retry-After': '5' }, { expected });
    if (this.lifecycle.draining) throw unavailable('draining: this node is shutting down', 'info');
    try {
      await within(this.database.ping(), 'postgres');
    } catch (error) {
      this.logger.warn({ err: error }, 'readiness: postgres unreachable');
      throw unavailable('postgres is unreachable');
    }
    if (isProbedBroker(this.broker)) {
      try {
        await within(this.broker.ping(), 'redis');
      } catch (error) {
        this.logger.warn({ err: error }, 'readiness: redis unreachable');
        throw unavailable('redis is unreachable');
      }
      const stats = await this.broker.stats();
      // A cluster that lost a master is degraded, not down: every node is as able as any other
      // to serve streams, so readiness stays; the body and the metrics say it.
      if (stats.kind === 'redis-cluster') {
        return {
          status: 'ready',
          redisCluster: { state: stats.clusterState ?? 'unknown', masters: stats.masters ?? 0 },
        };
      }
    }
    return { status: 'ready' };
  }

  @Get('metrics')
  @RequireAccess('public')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (keep off the public network)' })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, content: { 'text/plain': { schema: { type: 'string' } } } })
  async metricsText(@Res() res: Response): Promise<void> {
    const body = await this.metrics.registry.metrics();
    res.status(200).type(this.metrics.registry.contentType).send(body);
  }
}
