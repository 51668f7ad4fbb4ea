import { CommitFailedError, WriteQueueFullError } from '@sessionwire/events';
import { SessionEndedError } from '@sessionwire/transport/protocol/domain-errors';
import { renderError } from './problem-response';

const site = { method: 'POST', path: '/v1/sessions/s1/messages' };

function render(exception: unknown) {
  const logger = { error: jest.fn() };
  return { rendered: renderError(exception, site, logger), logger };
}

describe(renderError.name, () => {
  it('renders a full write queue as 503 unavailable naming that queue, with Retry-After', () => {
    const { rendered, logger } = render(new WriteQueueFullError('write', 10_000));
    expect(rendered).toEqual({
      code: 'unavailable',
      detail: 'the write queue is full (10000 writes waiting for a commit); retry later',
      headers: { 'Retry-After': '5' },
    });
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('renders a full connection queue as 503 naming the connection queue', () => {
    const { rendered } = render(new WriteQueueFullError('connection', 42));
    expect(rendered.code).toBe('unavailable');
    expect(rendered.detail).toBe(
      'the database connection queue is full (42 requests waiting); retry later',
    );
    expect(rendered.headers).toEqual({ 'Retry-After': '5' });
  });

  it('finds a domain error among the causes (a failed commit)', () => {
    const { rendered } = render(new CommitFailedError('rolled_back', new SessionEndedError('s1')));
    expect(rendered).toEqual({
      code: 'session_ended',
      detail: 'session s1 has ended and accepts nothing more',
      headers: undefined,
    });
  });

  it('says the database is unreachable when a connection could not be made', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    const { rendered, logger } = render(refused);
    expect(rendered).toEqual({
      code: 'unavailable',
      detail: 'the database is unreachable; retry later',
      headers: { 'Retry-After': '5' },
    });
    expect(logger.error).toHaveBeenCalledTimes(1);
  });

  it('says a write whose commit broke off may have been stored, and that repeating it is safe', () => {
    const cut = new CommitFailedError('unknown', new Error('Connection terminated unexpectedly'));
    const { rendered } = render(cut);
    expect(rendered.code).toBe('unavailable');
    expect(rendered.detail).toMatch(/may have been stored; retry the same request/);
    expect(rendered.headers).toEqual({ 'Retry-After': '5' });
    const refused = render(
      new CommitFailedError('rolled_back', new Error('Connection terminated')),
    );
    expect(refused.rendered.detail).toBe('the database is unreachable; retry later');
  });
});
