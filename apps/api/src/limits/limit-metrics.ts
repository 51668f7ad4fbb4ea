import { Counter, Gauge, type Registry } from 'prom-client';

/** Which abuse limit refused a request (the `limit` label of `sessionwire_rate_limited_total`). */
export type LimitName = 'streams_per_session' | 'streams_per_credential' | 'messages_per_session';

/** The limits' metrics, on the app's registry. */
export class LimitMetrics {
  private readonly refused: Counter<'limit'>;
  private readonly fallbacks: Counter;

  constructor(registry: Registry, counted: () => { sessions: number; credentials: number }) {
    this.refused = new Counter({
      name: 'sessionwire_rate_limited_total',
      help: 'Requests refused with 429 rate_limited, by limit: streams_per_session, streams_per_credential, messages_per_session',
      labelNames: ['limit'],
      registers: [registry],
    });
    for (const limit of LIMIT_NAMES) this.refused.inc({ limit }, 0);
    this.fallbacks = new Counter({
      name: 'sessionwire_rate_limit_local_fallbacks_total',
      help: 'Message limit checks made on this node alone because Redis could not be reached',
      registers: [registry],
    });
    new Gauge({
      name: 'sessionwire_limited_stream_keys',
      help: 'Sessions and credentials with a stream open on this node (entries the stream caps track)',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        const { sessions, credentials } = counted();
        this.set({ kind: 'session' }, sessions);
        this.set({ kind: 'credential' }, credentials);
      },
    });
  }

  limited(limit: LimitName): void {
    this.refused.inc({ limit });
  }

  localFallback(): void {
    this.fallbacks.inc();
  }
}

const LIMIT_NAMES: readonly LimitName[] = [
  'streams_per_session',
  'streams_per_credential',
  'messages_per_session',
];
