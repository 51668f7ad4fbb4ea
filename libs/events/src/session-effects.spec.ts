import { applyEvents, type SessionCursor } from './session-effects';
import { InputAlreadyProcessedError } from './write/write-errors';

describe('applyEvents', () => {
  const fresh: SessionCursor = {
    state: 'ACTIVE',
    headSeq: 1,
    lastInputSeq: 0,
    processedSeq: 0,
    turnId: null,
    turnInputSeq: null,
  };

  it('marks a session running while input is pending and idle when its turn closes', () => {
    const withInput = applyEvents(fresh, [
      { type: 'message.user', data: { clientMessageId: 'a', content: 'hi' } },
    ]);
    expect(withInput).toMatchObject({ headSeq: 2, lastInputSeq: 2, activity: 'running' });
    const started = applyEvents(withInput, [
      { type: 'turn.started', data: { turnId: 't1', inputSeq: 2 } },
    ]);
    expect(started).toMatchObject({ turnId: 't1', turnInputSeq: 2, activity: 'running' });
    const done = applyEvents(started, [
      { type: 'turn.completed', data: { turnId: 't1', stopReason: 'end_turn' } },
    ]);
    expect(done).toMatchObject({ processedSeq: 2, turnId: null, activity: 'idle', headSeq: 4 });
  });

  it('stays running after a turn when more input waits', () => {
    const row = applyEvents(fresh, [
      { type: 'message.user', data: { clientMessageId: 'a', content: '1' } },
      { type: 'message.user', data: { clientMessageId: 'b', content: '2' } },
      { type: 'turn.started', data: { turnId: 't', inputSeq: 2 } },
      { type: 'turn.completed', data: { turnId: 't', stopReason: 'end_turn' } },
    ]);
    expect(row).toMatchObject({ processedSeq: 2, lastInputSeq: 3, activity: 'running' });
  });

  it('refuses a second open turn, a turn for input that is not pending, and a foreign close', () => {
    const pending = applyEvents(fresh, [
      { type: 'message.user', data: { clientMessageId: 'a', content: 'x' } },
    ]);
    const open = applyEvents(pending, [
      { type: 'turn.started', data: { turnId: 't', inputSeq: 2 } },
    ]);
    expect(() =>
      applyEvents(open, [{ type: 'turn.started', data: { turnId: 'u', inputSeq: 2 } }]),
    ).toThrow('still open');
    expect(() =>
      applyEvents(pending, [{ type: 'turn.started', data: { turnId: 'u', inputSeq: 7 } }]),
    ).toThrow('not pending');
    expect(() =>
      applyEvents(open, [{ type: 'turn.completed', data: { turnId: 'u', stopReason: 'error' } }]),
    ).toThrow('not the open turn');
  });

  it('refuses a turn for input whose turn was already closed with InputAlreadyProcessedError', () => {
    const closed = applyEvents(fresh, [
      { type: 'message.user', data: { clientMessageId: 'a', content: 'x' } },
      { type: 'turn.started', data: { turnId: 't', inputSeq: 2 } },
      { type: 'turn.completed', data: { turnId: 't', stopReason: 'interrupted' } },
    ]);
    const again = () =>
      applyEvents(closed, [{ type: 'turn.started', data: { turnId: 'u', inputSeq: 2 } }]);
    expect(again).toThrow(InputAlreadyProcessedError);
    expect(again).toThrow(expect.objectContaining({ inputSeq: 2, processedSeq: 2 }));
  });

  it('is idle once ENDED even with unanswered input', () => {
    const row = applyEvents(fresh, [
      { type: 'message.user', data: { clientMessageId: 'a', content: 'x' } },
      { type: 'session.state', data: { from: 'ACTIVE', to: 'ENDED', reason: 'ended_by_user' } },
    ]);
    expect(row).toMatchObject({ state: 'ENDED', activity: 'idle' });
  });
});
