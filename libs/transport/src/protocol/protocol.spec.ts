import {
  CONTROL_EVENTS,
  EVENT_TYPES,
  encodeControlFrame,
  encodeEventFrame,
  isLegalTransition,
  parseCursor,
  parseNewEvent,
  shouldSync,
  SESSION_STATES,
  TRANSITIONS,
  type StoredEvent,
} from '.';

describe('parseCursor', () => {
  it.each([
    ['0', 0],
    ['42', 42],
    ['9007199254740991', 9007199254740991],
  ])('accepts %s', (raw, value) => {
    expect(parseCursor(raw)).toBe(value);
  });

  it.each(['-1', 'abc', '1e9999', '1.5', '', ' 1', '0x10', '9007199254740992', '+3'])(
    'refuses %j',
    (raw) => {
      expect(parseCursor(raw)).toBeUndefined();
    },
  );
});

describe('session states', () => {
  it('allows exactly the protocol table', () => {
    expect(TRANSITIONS).toEqual({
      CREATED: ['STARTING', 'ENDED'],
      STARTING: ['ACTIVE', 'DETACHED', 'ENDED'],
      ACTIVE: ['SUSPENDED', 'DETACHED', 'ENDED'],
      SUSPENDED: ['STARTING', 'ENDED'],
      DETACHED: ['STARTING', 'ENDED'],
      ENDED: [],
    });
    expect(isLegalTransition(null, 'CREATED')).toBe(true);
    expect(isLegalTransition(null, 'ACTIVE')).toBe(false);
    expect(isLegalTransition('ENDED', 'STARTING')).toBe(false);
  });

  it('syncs only sessions that can still change on their own', () => {
    expect(SESSION_STATES.filter(shouldSync)).toEqual(['CREATED', 'STARTING', 'ACTIVE']);
  });
});

describe('frame names', () => {
  it('never names a frame `error` (it would fire EventSource.onerror)', () => {
    expect([...EVENT_TYPES, ...CONTROL_EVENTS]).not.toContain('error');
    expect(EVENT_TYPES).toContain('agent.error');
  });
});

describe('frames', () => {
  const event: StoredEvent = {
    sessionId: 's',
    seq: 42,
    type: 'message.delta',
    data: { turnId: 't', text: 'Hel' },
    createdAt: '2026-01-01T00:00:00.000Z',
  };

  it('encodes a stored event with its seq as id', () => {
    expect(encodeEventFrame(event)).toBe(
      `id: 42\nevent: message.delta\ndata: ${JSON.stringify(event)}\n\n`,
    );
  });

  it('gives a gap frame the id of its last skipped seq, other control frames none', () => {
    const gap = encodeControlFrame({
      event: 'gap',
      data: {
        sessionId: 's',
        reason: 'replay_gap_exceeded',
        fromSeq: 1,
        toSeq: 500,
        headSeq: 500,
        state: 'ACTIVE',
        activity: 'idle',
        historyUrl: '/v1/sessions/s/events?after=0&limit=1000',
      },
    });
    expect(gap.startsWith('id: 500\nevent: gap\n')).toBe(true);
    expect(encodeControlFrame({ event: 'live', data: { sessionId: 's', headSeq: 3 } })).toBe(
      'event: live\ndata: {"sessionId":"s","headSeq":3}\n\n',
    );
  });
});

describe('parseNewEvent', () => {
  it('accepts a valid payload and refuses a malformed one', () => {
    expect(
      parseNewEvent({
        type: 'tool.call',
        data: { turnId: 't', callId: 'c', name: 'x', input: {} },
      }),
    ).toMatchObject({ type: 'tool.call' });
    expect(() =>
      parseNewEvent({ type: 'turn.completed', data: { turnId: 't', stopReason: 'x' } }),
    ).toThrow();
    expect(() => parseNewEvent({ type: 'nope', data: {} })).toThrow('unknown event type');
  });
});
