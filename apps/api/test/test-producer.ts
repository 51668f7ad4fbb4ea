import { sessions, type EventStore } from '@sessionwire/events';
import { eq, sql } from 'drizzle-orm';
import type { NewEvent, StoredEvent } from '@sessionwire/transport/protocol';
import { publishEvents, type Broker } from '@sessionwire/transport/server';
import { v7 as uuidv7 } from 'uuid';
import type { TestDatabase } from '../../../test/database';

/**
 * Writes a session's log the way a worker does (lease epoch, turn events, publish after commit),
 * so API tests need no worker. `publish: false` on a call simulates a lost pub/sub hint.
 */
export class TestProducer {
  private readonly epochs = new Map<string, number>();
  private readonly turns = new Map<string, string>();

  constructor(
    private readonly db: TestDatabase,
    private readonly broker: Broker,
  ) {}

  private get store(): EventStore {
    return this.db.store;
  }

  /** Claims the session for this producer and makes it ACTIVE. */
  async activate(sessionId: string, publish = true): Promise<StoredEvent[]> {
    // Take the lease as a claim would (owner, new epoch), then record the claim's transition.
    const [row] = await this.db.handle.db
      .update(sessions)
      .set({
        owner: 'test-producer',
        leaseEpoch: sql`${sessions.leaseEpoch} + 1` as unknown as number,
        leaseExpiresAt: new Date(Date.now() + 600_000),
      })
      .where(eq(sessions.id, sessionId))
      .returning();
    if (!row) throw new Error(`no session ${sessionId}`);
    this.epochs.set(sessionId, row.leaseEpoch);
    const leaseEpoch = row.leaseEpoch;
    const claimed = await this.store.transition(
      sessionId,
      row.state as never,
      'STARTING',
      'claimed',
      {
        leaseEpoch,
      },
    );
    const active = await this.store.transition(sessionId, 'STARTING', 'ACTIVE', 'agent_ready', {
      leaseEpoch,
    });
    return this.done([claimed, active], publish);
  }

  /** Opens a turn for the next pending message. */
  async startTurn(
    sessionId: string,
    publish = true,
  ): Promise<{ turnId: string; events: StoredEvent[] }> {
    const row = await this.store.requireSession(sessionId);
    const input = await this.store.getNextInput(sessionId, Number(row.processedSeq));
    if (!input) throw new Error(`no pending input in ${sessionId}`);
    const turnId = uuidv7();
    this.turns.set(sessionId, turnId);
    const events = await this.append(
      sessionId,
      [{ type: 'turn.started', data: { turnId, inputSeq: input.seq } }],
      publish,
    );
    return { turnId, events };
  }

  /** `count` deltas of the open turn, one commit each. */
  async deltas(sessionId: string, count: number, publish = true): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for (let i = 0; i < count; i++) {
      out.push(...(await this.append(sessionId, [this.delta(sessionId, `t${i} `)], publish)));
    }
    return out;
  }

  /** `count` deltas in one commit (fast history for replay tests). */
  async bulkDeltas(sessionId: string, count: number, publish = true): Promise<StoredEvent[]> {
    const events = Array.from({ length: count }, (_, i) => this.delta(sessionId, `b${i} `));
    return this.append(sessionId, events, publish);
  }

  async completeTurn(sessionId: string, publish = true): Promise<StoredEvent[]> {
    const turnId = this.turnOf(sessionId);
    this.turns.delete(sessionId);
    return this.append(
      sessionId,
      [
        { type: 'message.completed', data: { turnId, text: 'done' } },
        { type: 'turn.completed', data: { turnId, stopReason: 'end_turn' } },
      ],
      publish,
    );
  }

  async append(sessionId: string, events: NewEvent[], publish = true): Promise<StoredEvent[]> {
    const stored = await this.store.append(sessionId, events, {
      leaseEpoch: this.epochs.get(sessionId),
    });
    return this.done([stored], publish);
  }

  private delta(sessionId: string, text: string): NewEvent {
    return { type: 'message.delta', data: { turnId: this.turnOf(sessionId), text } };
  }

  private turnOf(sessionId: string): string {
    const turnId = this.turns.get(sessionId);
    if (!turnId) throw new Error(`no open turn in ${sessionId}`);
    return turnId;
  }

  private async done(
    batches: (StoredEvent | StoredEvent[])[],
    publish: boolean,
  ): Promise<StoredEvent[]> {
    const events = batches.flat();
    if (publish) await publishEvents(this.broker, events);
    return events;
  }
}
