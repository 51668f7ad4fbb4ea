import { Inject, Injectable } from '@nestjs/common';
import {
  BROKER,
  publishEvents,
  publishWork,
  type Broker,
  type WorkHint,
} from '@sessionwire/transport/server';
import type { StoredEvent } from '@sessionwire/transport/protocol';

/** Publishes hints after commit: session events for API nodes, work hints for workers. */
@Injectable()
export class HintPublisher {
  constructor(@Inject(BROKER) private readonly broker: Broker) {}

  async committed(events: readonly StoredEvent[], work?: WorkHint): Promise<void> {
    await Promise.all([
      events.length ? publishEvents(this.broker, events) : undefined,
      work ? publishWork(this.broker, work) : undefined,
    ]);
  }
}
