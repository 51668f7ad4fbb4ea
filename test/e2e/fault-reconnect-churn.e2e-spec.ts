import {
  createSessions,
  endAndVerify,
  FaultClient,
  post,
  readLog,
  useFaultCluster,
  waitForLive,
  waitForTurns,
} from './fault-support';

// Clients that drop their connection at random points (mid-frame included) every 200 ms or less
// during a 5,000-token turn, resuming with Last-Event-ID each time, on the default replay cap.
describe('Fault suite: reconnect churn', () => {
  const suite = useFaultCluster({ apiNodes: 2, workers: 1 });

  it('a client reconnecting every 200 ms during a 5,000-token turn receives the log exactly once', async () => {
    const { cluster: c, db } = suite;
    const [sessionId] = await createSessions(c.url, 1);
    const churners = Array.from({ length: 3 }, () =>
      new FaultClient(c.url, sessionId, { churnMs: 200 }).start(),
    );
    const steady = new FaultClient(c.url, sessionId).start();
    await waitForLive([...churners, steady]);
    await post(`${c.url}/v1/sessions/${sessionId}/messages`, { content: '/stream 5000 1' });
    await waitForTurns(db, [sessionId], 1, 90_000);
    await endAndVerify(c, db, [sessionId], [...churners, steady]);

    const log = await readLog(db, sessionId);
    const text = log
      .filter((e) => e.type === 'message.delta')
      .map((e) => (e.data as { text: string }).text)
      .join('');
    expect(text).toBe(Array.from({ length: 5000 }, (_, i) => `t${i} `).join(''));
    for (const churner of churners) expect(churner.connections).toBeGreaterThan(10);
  }, 150_000);
});
