import {
  sessionChannel,
  subscribeWork,
  type Broker,
  type SessionHint,
  type Unsubscribe,
  type WorkHint,
} from '@sessionwire/transport/server';

/** Records the hints published on the work channels and on one or more session channels. */
export class HintRecorder {
  readonly work: WorkHint[] = [];
  readonly sessions: SessionHint[] = [];
  private readonly unsubscribes: Unsubscribe[] = [];

  constructor(private readonly broker: Broker) {}

  async listenWork(): Promise<this> {
    this.unsubscribes.push(
      await subscribeWork(this.broker, (p) => this.work.push(JSON.parse(p) as WorkHint)),
    );
    return this;
  }

  async listenSession(sessionId: string): Promise<this> {
    this.unsubscribes.push(
      await this.broker.subscribe(sessionChannel(sessionId), (p) =>
        this.sessions.push(JSON.parse(p) as SessionHint),
      ),
    );
    return this;
  }

  workFor(sessionId: string): WorkHint[] {
    return this.work.filter((h) => h.sessionId === sessionId);
  }

  async close(): Promise<void> {
    await Promise.all(this.unsubscribes.splice(0).map((u) => u()));
  }
}
