import { decodeFrame } from './frame-decoder';

const SESSION = '01a00000-0000-7000-8000-000000000001';

function stored(seq: number, type: string, data: unknown) {
  return {
    id: String(seq),
    event: type,
    data: JSON.stringify({
      sessionId: SESSION,
      seq,
      type,
      data,
      createdAt: '2026-01-01T00:00:00Z',
    }),
  };
}

describe(decodeFrame.name, () => {
  it('decodes an agent.error frame as a typed stored event', () => {
    const frame = decodeFrame(
      stored(7, 'agent.error', { code: 'agent_failed', message: 'boom', turnId: 't1' }),
    );
    expect(frame).toEqual({
      kind: 'event',
      event: expect.objectContaining({
        seq: 7,
        type: 'agent.error',
        data: { code: 'agent_failed', message: 'boom', turnId: 't1' },
      }),
    });
  });

  it('does not take a v1 frame named error for a stored event', () => {
    expect(decodeFrame(stored(7, 'error', { code: 'agent_failed', message: 'boom' }))).toEqual({
      kind: 'ignored',
    });
  });
});
