import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { MessageContext } from '@app/messaging';
import { type Options, pinoHttp } from 'pino-http';
import { BatchedStdout } from './batched-stdout.js';
import { contextFields, isQuietPath, loggerParams, pinoLevel, redactUrl } from './logger-params.js';

/** pino-http's options of loggerParams, without the destination that JSON logs get. */
function httpOptions(format: 'json' | 'pretty', level: 'log' | 'warn' = 'log'): Options {
  const { pinoHttp } = loggerParams('order', { format, level });
  return (Array.isArray(pinoHttp) ? pinoHttp[0] : pinoHttp) as Options;
}

/** The JSON lines a logger built from loggerParams writes. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const { logger } = pinoHttp(httpOptions('json'), stream);
  return { logger, lines };
}

describe('pinoLevel', () => {
  it.each([
    ['error', 'error'],
    ['warn', 'warn'],
    ['log', 'info'],
    ['debug', 'debug'],
    ['verbose', 'trace'],
  ] as const)('maps LOG_LEVEL=%s to pino %s', (level, expected) => {
    expect(pinoLevel(level)).toBe(expected);
  });
});

describe('contextFields', () => {
  it('is empty outside any request or message', () => {
    expect(contextFields()).toEqual({});
  });

  it('gives the correlation id of an HTTP request', () => {
    expect(MessageContext.run({ correlationId: 'req-1' }, contextFields)).toEqual({
      correlationId: 'req-1',
    });
  });

  it('adds the id and type of a consumed message', () => {
    const data = { correlationId: 'req-1', messageId: 'm-1', messageType: 'order.confirmed' };

    expect(MessageContext.run(data, contextFields)).toEqual(data);
  });
});

describe('isQuietPath', () => {
  it.each(['/health/live', '/health/ready', '/health', '/metrics', '/health/ready?x=1'])(
    'keeps %s out of the request log',
    (url) => expect(isQuietPath(url)).toBe(true),
  );

  it.each(['/orders', '/healthy', '/orders/health', undefined])('logs %s', (url) =>
    expect(isQuietPath(url)).toBe(false),
  );
});

describe('loggerParams', () => {
  it('writes JSON lines with the service and, inside a request, its correlation id', () => {
    const { logger, lines } = capture();

    logger.info('outside');
    MessageContext.run({ correlationId: 'req-7' }, () => logger.info('inside'));

    expect(lines).toEqual([
      expect.objectContaining({ service: 'order', level: 30, msg: 'outside' }),
      expect.objectContaining({ service: 'order', correlationId: 'req-7', msg: 'inside' }),
    ]);
    expect(lines[0]).not.toHaveProperty('correlationId');
    expect(lines[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('logs at LOG_LEVEL and above only', () => {
    expect(httpOptions('json', 'warn')).toMatchObject({ level: 'warn' });
  });

  it('uses the correlation id the middleware set as the request id', () => {
    const { genReqId } = httpOptions('json') as { genReqId: () => string };

    expect(MessageContext.run({ correlationId: 'req-9' }, genReqId)).toBe('req-9');
  });

  it('prints through pino-pretty when LOG_FORMAT=pretty, and plain JSON otherwise', () => {
    const transport = (format: 'json' | 'pretty') => httpOptions(format).transport;

    expect(transport('pretty')).toMatchObject({ target: expect.stringContaining('pino-pretty') });
    expect(transport('json')).toBeUndefined();
  });

  it('writes JSON to stdout a turn of the event loop at a time, one destination per process', () => {
    const destination = (format: 'json' | 'pretty') => {
      const { pinoHttp } = loggerParams('order', { format, level: 'log' });
      return Array.isArray(pinoHttp) ? pinoHttp[1] : undefined;
    };

    expect(destination('json')).toBeInstanceOf(BatchedStdout);
    expect(destination('json')).toBe(destination('json'));
    expect(destination('pretty')).toBeUndefined();
  });
});

describe('redactUrl', () => {
  it.each([
    ['/orders?x-api-key=secret-key-0001', '/orders?x-api-key=[redacted]'],
    ['/orders?status=PENDING&limit=5', '/orders?status=PENDING&limit=5'],
    [
      '/notifications?orderId=abc&token=t0k3n&status=X',
      '/notifications?orderId=[redacted]&token=[redacted]&status=X',
    ],
    ['/orders/42', '/orders/42'],
    ['/orders?flag', '/orders?flag'],
  ])('logs %s as %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });
});
