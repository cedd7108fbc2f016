import { randomUUID } from 'node:crypto';
import type { ConsumeMessage, Options } from 'amqplib';
import { HeaderNames, JSON_CONTENT_TYPE } from '../constants.js';

/** What every message carries besides its body (docs/messaging.md, "Properties"). */
export interface OutgoingMeta {
  type: string;
  version: number;
  messageId?: string;
  correlationId?: string;
  headers?: Record<string, unknown>;
}

/** What differs between events, RPC requests and replies. */
export interface PublishExtras {
  persistent?: boolean;
  replyTo?: string;
  expiration?: string;
  mandatory?: boolean;
}

/**
 * Who publishes: `app_id` names the service, `user_id` its broker user. RabbitMQ refuses a
 * `user_id` that is not the connection's user, so consumers can trust it (docs/security.md).
 */
export interface Sender {
  appId: string;
  userId: string;
}

export function senderOf(options: { service: string; brokerUser: string }): Sender {
  return { appId: options.service, userId: options.brokerUser };
}

export function publishProperties(
  meta: OutgoingMeta,
  sender: Sender,
  extra: PublishExtras = {},
): Options.Publish {
  // One literal with every key, in one order: amqplib reads each option of every publish,
  // and a single object shape keeps those reads monomorphic (undefined means "not set").
  return {
    contentType: JSON_CONTENT_TYPE,
    messageId: meta.messageId ?? randomUUID(),
    type: meta.type,
    // AMQP timestamps are whole seconds since the epoch.
    timestamp: Math.floor(Date.now() / 1000),
    correlationId: meta.correlationId,
    appId: sender.appId,
    userId: sender.userId,
    headers: headersOf(meta),
    persistent: extra.persistent,
    replyTo: extra.replyTo,
    expiration: extra.expiration,
    mandatory: extra.mandatory,
  };
}

/**
 * An RPC reply's lighter set: what a caller matches and decodes it by (`correlation_id`,
 * `content_type`, `type`, `x-message-version`) and `user_id`, which the broker validates.
 * No `message_id`, `timestamp` or `app_id`: nobody deduplicates, orders or routes a reply
 * (docs/messaging.md), and each costs encoding and decoding on both ends of every call.
 */
export function replyProperties(
  meta: Pick<OutgoingMeta, 'type' | 'version' | 'correlationId' | 'headers'>,
  sender: Sender,
): Options.Publish {
  return {
    contentType: JSON_CONTENT_TYPE,
    type: meta.type,
    correlationId: meta.correlationId,
    userId: sender.userId,
    headers: headersOf(meta),
  };
}

/** The message's own headers (say, its trace) with its version, or the shared version table. */
function headersOf(meta: Pick<OutgoingMeta, 'version' | 'headers'>): Record<string, unknown> {
  return meta.headers
    ? { ...meta.headers, [HeaderNames.version]: meta.version }
    : versionHeaders(meta.version);
}

const sharedVersionHeaders = new Map<number, Record<string, unknown>>();

/**
 * The usual headers table, one shared object per version: amqplib encodes a reused object
 * markedly faster than a fresh one per message (measured in bench/). Never mutate it.
 */
function versionHeaders(version: number): Record<string, unknown> {
  let headers = sharedVersionHeaders.get(version);
  if (!headers) sharedVersionHeaders.set(version, (headers = { [HeaderNames.version]: version }));
  return headers;
}

export interface IncomingMeta {
  messageId: string | undefined;
  type: string | undefined;
  version: number | undefined;
  correlationId: string | undefined;
  /** The originating request's id: `x-request-id` on RPC requests, else `correlation_id`. */
  requestId: string | undefined;
  replyTo: string | undefined;
  attempts: number;
  headers: Record<string, unknown>;
}

export function readMeta(msg: ConsumeMessage): IncomingMeta {
  const p = msg.properties;
  const headers = (p.headers ?? {}) as Record<string, unknown>;
  return {
    messageId: optionalString(p.messageId),
    // Events are routed by name, so a bare publisher that sets no `type` still works.
    type: optionalString(p.type) ?? (msg.fields.exchange ? msg.fields.routingKey : undefined),
    version: optionalNumber(headers[HeaderNames.version]),
    correlationId: optionalString(p.correlationId),
    requestId: optionalString(headers[HeaderNames.requestId]) ?? optionalString(p.correlationId),
    replyTo: optionalString(p.replyTo),
    attempts: optionalNumber(headers[HeaderNames.attempts]) ?? 0,
    headers,
  };
}

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value ?? null));
}

export type Decoded = { ok: true; value: unknown } | { ok: false; error: string };

export function decodeJson(content: Buffer): Decoded {
  try {
    return { ok: true, value: JSON.parse(content.toString('utf8')) };
  } catch (error) {
    return { ok: false, error: `body is not JSON: ${(error as Error).message}` };
  }
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function optionalNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}
