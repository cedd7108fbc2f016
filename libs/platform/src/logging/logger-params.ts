import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { MessageContext } from '@app/messaging';
import type { Params } from 'nestjs-pino';
import type { Options } from 'pino-http';
import { type Level, stdTimeFunctions, type TransportSingleOptions } from 'pino';
import type { ServiceConfig } from '../config/service-config.js';
import { BatchedStdout } from './batched-stdout.js';

type LogConfig = ServiceConfig['log'];

/** LOG_LEVEL keeps Nest's names; pino calls `log` info and `verbose` trace. */
const PINO_LEVELS: Readonly<Record<LogConfig['level'], Level>> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

export function pinoLevel(level: LogConfig['level']): Level {
  return PINO_LEVELS[level];
}

/**
 * What every line logged for the work in progress carries: the correlation id of the HTTP
 * request or consumed message (MessageContext, which the correlation middleware and the AMQP
 * transport set), and for a message its id and type.
 */
export function contextFields(): Record<string, string> {
  const context = MessageContext.current();
  if (!context) return {};
  const fields: Record<string, string> = { correlationId: context.correlationId };
  if (context.messageId) fields.messageId = context.messageId;
  if (context.messageType) fields.messageType = context.messageType;
  return fields;
}

/** Probes and scrapers poll these every few seconds: a request line each would drown the rest. */
export function isQuietPath(url: string | undefined): boolean {
  return /^\/(health|metrics)(\/|\?|$)/.test(url ?? '');
}

/**
 * pino-pretty is a dev dependency (the production image has none): without it, `pretty`
 * falls back to JSON rather than failing at start-up.
 */
export function prettyTarget(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('pino-pretty');
  } catch {
    return undefined;
  }
}

type Request = IncomingMessage & { originalUrl?: string };

/** Query parameters whose values are logged as sent: they say what was asked, nothing secret. */
const LOGGED_QUERY_VALUES = new Set(['status', 'limit']);

/**
 * A request's URL as logged: every query value but LOGGED_QUERY_VALUES' replaced, so a key,
 * token or e-mail address sent in a query string never reaches the logs.
 */
export function redactUrl(url: string | undefined): string | undefined {
  const at = url?.indexOf('?') ?? -1;
  if (!url || at < 0) return url;
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const name = pair.split('=')[0]!;
      return LOGGED_QUERY_VALUES.has(name) || !pair.includes('=') ? pair : `${name}=[redacted]`;
    });
  return `${url.slice(0, at)}?${query.join('&')}`;
}

/** One per process: every service (and e2e app) of the process shares stdout. */
let stdout: BatchedStdout | undefined;

/**
 * nestjs-pino for a service: one JSON object per line (LOG_FORMAT=json) or pino-pretty,
 * `service` on every line, `correlationId` on every line a request or message causes,
 * and one info line per HTTP request with method, url, status and duration.
 *
 * nestjs-pino keeps one root logger per process: when several services run in one process
 * (the in-process e2e suites), the first one's settings apply to all of them.
 */
export function loggerParams(service: string, log: LogConfig): Params<Request, ServerResponse> {
  const pretty = log.format === 'pretty' ? prettyTarget() : undefined;
  const transport: TransportSingleOptions | undefined = pretty
    ? {
        target: pretty,
        options: {
          singleLine: true,
          translateTime: 'SYS:HH:MM:ss.l',
          // The message already says what `req`, `res` and `responseTime` hold.
          ignore: 'pid,hostname,service,context,req,res,responseTime',
          messageFormat: '{if context}[{context}] {end}{msg}',
        },
      }
    : undefined;
  const options: Options<Request, ServerResponse> = {
    level: pinoLevel(log.level),
    base: { service, pid: process.pid, hostname: hostname() },
    timestamp: stdTimeFunctions.isoTime,
    mixin: contextFields,
    transport,
    // The correlation middleware runs first and has set the id (X-Request-Id or a new one).
    genReqId: () => MessageContext.correlationId() ?? randomUUID(),
    autoLogging: { ignore: (req) => isQuietPath(req.originalUrl ?? req.url) },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessMessage: (req, res, ms) =>
      `${req.method} ${redactUrl(req.originalUrl ?? req.url)} ${res.statusCode} in ${ms} ms`,
    customErrorMessage: (req, res) =>
      `${req.method} ${redactUrl(req.originalUrl ?? req.url)} failed with ${res.statusCode}`,
    // Every line of a request carries `req` as { method, url }; the request line adds
    // `res` as { statusCode } and `responseTime` (ms). The id comes from the mixin.
    serializers: {
      req: (req: { method?: string; url?: string }) => ({
        method: req.method,
        url: redactUrl(req.url),
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
  // JSON goes to stdout a turn of the event loop at a time (pino-pretty writes on its own).
  return { pinoHttp: transport ? options : [options, (stdout ??= new BatchedStdout())] };
}
