import { Inject, Injectable } from '@nestjs/common';
import {
  BROKER,
  isProbedBroker,
  type Broker,
  type BrokerStats,
  type ProbedBroker,
} from '@sessionwire/transport/server';
import { Counter, Gauge } from 'prom-client';
import { StreamMetricsService } from './stream-metrics.service';

type Read = (stats: BrokerStats) => number | undefined;

/**
 * The broker's state on the node's metrics registry, read from the broker at each scrape: up
 * (connected, and for a cluster every slot served), masters, subscriber connections, channels,
 * and counters of errors, re-subscriptions and lost publishes (a failover or a slot move shows in
 * `sessionwire_broker_resubscribes_total`). Nothing is registered for the in-process bus.
 */
@Injectable()
export class BrokerMetricsService {
  private cached?: { at: number; stats: Promise<BrokerStats> };

  constructor(@Inject(BROKER) broker: Broker, metrics: StreamMetricsService) {
    if (!isProbedBroker(broker)) return;
    const registers = [metrics.registry];
    const labelNames = ['kind'] as const;
    const stats = () => this.stats(broker);
    const gauge = (name: string, help: string, read: Read) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        async collect(this: Gauge<'kind'>) {
          const current = await stats();
          const value = read(current);
          if (value !== undefined) this.set({ kind: current.kind }, value);
        },
      });
    const counter = (name: string, help: string, read: Read) => {
      let reported = 0;
      return new Counter({
        name,
        help,
        labelNames,
        registers,
        async collect(this: Counter<'kind'>) {
          const current = await stats();
          const value = read(current) ?? 0;
          this.inc({ kind: current.kind }, Math.max(0, value - reported));
          reported = Math.max(reported, value);
        },
      });
    };

    gauge(
      'sessionwire_broker_up',
      'Redis reachable (cluster: cluster_state ok, every slot served): 1, else 0',
      (s) => (s.up ? 1 : 0),
    );
    gauge('sessionwire_broker_cluster_masters', 'Masters in the Redis Cluster slot map', (s) =>
      s.kind === 'redis-cluster' ? s.masters : undefined,
    );
    gauge(
      'sessionwire_broker_cluster_state_ok',
      'Redis Cluster cluster_state: 1 ok, 0 fail (a slot has no live master) or unreachable',
      (s) => (s.kind === 'redis-cluster' ? (s.clusterState === 'ok' ? 1 : 0) : undefined),
    );
    gauge(
      'sessionwire_broker_subscriber_connections',
      'Subscriber connections (cluster: one per master serving a subscribed channel)',
      (s) => s.subscriberConnections,
    );
    gauge('sessionwire_broker_channels', 'Channels subscribed upstream', (s) => s.channels);
    counter(
      'sessionwire_broker_errors_total',
      'Redis error events (connection errors included; the log gets at most one per 10 s each)',
      (s) => s.errors,
    );
    counter(
      'sessionwire_broker_resubscribes_total',
      'Subscriptions restored after a reconnect, a failover or a slot move',
      (s) => s.resubscribes,
    );
    counter(
      'sessionwire_broker_publish_failures_total',
      'Hints lost because a publish failed or timed out (the periodic sync repairs them)',
      (s) => s.publishFailures,
    );
  }

  /** One stats read per scrape, shared by every metric. */
  private stats(broker: ProbedBroker): Promise<BrokerStats> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > 1000) {
      this.cached = { at: now, stats: broker.stats() };
    }
    return this.cached.stats;
  }
}
