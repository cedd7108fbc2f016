import type { Message } from 'amqplib';
import { HeaderNames } from '@app/messaging';
import { isoTime, latestDeath, type Origin, resolveOrigin } from './origin.js';

/** One line of `dlq list`: what failed, why, and where it came from. */
export interface DeadLetterSummary {
  messageId: string | undefined;
  type: string | undefined;
  /** `x-death-reason` (ours) or the broker's `x-death` reason (`rejected`, `delivery_limit`…). */
  reason: string | undefined;
  error: string | undefined;
  attempts: number | undefined;
  originalQueue: string | undefined;
  /** ISO-8601. */
  failedAt: string | undefined;
  service: string | undefined;
  correlationId: string | undefined;
  /** Body size in bytes. */
  size: number;
  /** Our FailureHandler, RabbitMQ itself (`x-death` only), or neither (published by hand). */
  deadLetteredBy: 'service' | 'broker' | 'unknown';
}

/** The whole message, for `dlq show`. */
export interface DeadLetter extends DeadLetterSummary {
  origin: Origin | undefined;
  /** The AMQP properties that are set, headers apart. */
  properties: Record<string, unknown>;
  /** Headers, with AMQP timestamps shown as ISO-8601. */
  headers: Record<string, unknown>;
  body: unknown;
  /** `json`: body is the parsed value; `text`: the UTF-8 string; `base64`: binary. */
  bodyFormat: 'json' | 'text' | 'base64';
}

export function headersOf(msg: Message): Record<string, unknown> {
  return (msg.properties.headers ?? {}) as Record<string, unknown>;
}

export function summarize(msg: Message): DeadLetterSummary {
  const p = msg.properties;
  const headers = headersOf(msg);
  const death = latestDeath(headers);
  const origin = resolveOrigin(headers);
  const ours = headers[HeaderNames.deathReason] !== undefined;
  return {
    messageId: text(p.messageId),
    // A bare publisher may set no type; an event's routing key is its name.
    type: text(p.type) ?? (origin?.exchange ? origin.routingKey : undefined),
    reason: ours ? text(headers[HeaderNames.deathReason]) : death?.reason,
    error: text(headers[HeaderNames.errorMessage]),
    attempts: count(headers[HeaderNames.attempts]),
    originalQueue: origin?.queue,
    failedAt: text(headers[HeaderNames.failedAt]) ?? death?.time,
    service: text(headers[HeaderNames.service]),
    correlationId: text(p.correlationId),
    size: msg.content.length,
    deadLetteredBy: ours ? 'service' : death ? 'broker' : 'unknown',
  };
}

export function describeDeadLetter(msg: Message): DeadLetter {
  const { headers, ...properties } = msg.properties;
  return {
    ...summarize(msg),
    origin: resolveOrigin(headersOf(msg)),
    properties: definedOnly(properties),
    headers: readable(headers ?? {}) as Record<string, unknown>,
    ...decodeBody(msg.content),
  };
}

export function decodeBody(content: Buffer): Pick<DeadLetter, 'body' | 'bodyFormat'> {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let textBody: string;
  try {
    textBody = utf8.decode(content);
  } catch {
    return { body: content.toString('base64'), bodyFormat: 'base64' };
  }
  try {
    return { body: JSON.parse(textBody), bodyFormat: 'json' };
  } catch {
    return { body: textBody, bodyFormat: 'text' };
  }
}

/** AMQP timestamps (amqplib's `{ '!': 'timestamp' }`) as ISO strings, recursively. */
function readable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(readable);
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return value;
  if ((value as { '!'?: unknown })['!'] === 'timestamp') return isoTime(value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, readable(v)]));
}

function definedOnly(record: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function count(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}
