import { describe, expect, it } from '@jest/globals';
import { type ArgumentsHost, ServiceUnavailableException } from '@nestjs/common';
import { DomainErrorFilter } from './domain-error.filter.js';

/** An HTTP ArgumentsHost whose response records what the filter answered. */
function httpHost() {
  const sent: { status?: number; body?: unknown } = {};
  const res = {
    headersSent: false,
    status(code: number) {
      sent.status = code;
      return res;
    },
    json(body: unknown) {
      sent.body = body;
      return res;
    },
  };
  const host = {
    getType: () => 'http',
    switchToHttp: () => ({ getResponse: () => res }),
  } as unknown as ArgumentsHost;
  return { host, sent };
}

describe('DomainErrorFilter', () => {
  it('answers a failed health check with terminus’ report of each check', () => {
    const report = {
      status: 'error',
      info: { database: { status: 'up' } },
      error: { rabbitmq: { status: 'down', message: 'not connected' } },
      details: {
        database: { status: 'up' },
        rabbitmq: { status: 'down', message: 'not connected' },
      },
    };
    const { host, sent } = httpHost();

    new DomainErrorFilter({}).catch(new ServiceUnavailableException(report), host);

    expect(sent).toEqual({ status: 503, body: report });
  });

  it('answers any other 503 with the common error body', () => {
    const { host, sent } = httpHost();

    new DomainErrorFilter({}).catch(new ServiceUnavailableException('draining'), host);

    expect(sent).toEqual({
      status: 503,
      body: { statusCode: 503, error: 'Service Unavailable', message: 'draining' },
    });
  });
});
