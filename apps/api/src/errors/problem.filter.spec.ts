import type { ArgumentsHost } from '@nestjs/common';
import { SessionEndedError } from '@sessionwire/transport/protocol/domain-errors';
import { ProblemFilter } from './problem.filter';

function host(res: object, req: object = { method: 'GET', path: '/v1/sessions/x/stream' }) {
  return {
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
  } as unknown as ArgumentsHost;
}

describe(ProblemFilter.name, () => {
  it('never writes once the response has started (an SSE stream): it drops the connection', () => {
    const res = {
      headersSent: true,
      destroyed: false,
      status: jest.fn(),
      setHeader: jest.fn(),
      end: jest.fn(),
      write: jest.fn(),
      destroy: jest.fn(),
    };
    new ProblemFilter().catch(new Error('history read failed'), host(res));
    expect(res.status).not.toHaveBeenCalled();
    expect(res.setHeader).not.toHaveBeenCalled();
    expect(res.write).not.toHaveBeenCalled();
    expect(res.end).not.toHaveBeenCalled();
    expect(res.destroy).toHaveBeenCalledTimes(1);
  });

  it('renders a domain error as problem+json with its code and status', () => {
    const headers: Record<string, string> = {};
    const res = {
      headersSent: false,
      status: jest.fn(),
      setHeader: (name: string, value: string) => (headers[name] = value),
      end: jest.fn(),
    };
    new ProblemFilter().catch(new SessionEndedError('s1'), host(res));
    expect(res.status).toHaveBeenCalledWith(409);
    expect(headers['Content-Type']).toBe('application/problem+json; charset=utf-8');
    expect(JSON.parse(res.end.mock.calls[0][0])).toEqual({
      type: 'https://sessionwire.dev/problems/session-ended',
      title: 'Session ended',
      status: 409,
      detail: 'session s1 has ended and accepts nothing more',
      code: 'session_ended',
    });
  });
});
