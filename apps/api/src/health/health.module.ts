import { Module } from '@nestjs/common';
import { BrokerMetricsService } from './broker-metrics.service';
import { HealthController } from './health.controller';

@Module({ controllers: [HealthController], providers: [BrokerMetricsService] })
export class HealthModule {}
