import type { z } from 'zod';
import type { RpcErrorBody } from './wire/rpc-reply.js';

/**
 * Throw from a handler when a retry cannot help (the data can never be processed):
 * the message goes straight to the dead-letter queue with this error's message.
 */
export class PermanentError extends Error {
  override readonly name: string = 'PermanentError';
  constructor(
    message: string,
    readonly code = 'PERMANENT_FAILURE',
  ) {
    super(message);
  }
}

/** The payload does not match its contract: a permanent failure with the offending fields. */
export class ContractViolationError extends PermanentError {
  override readonly name: string = 'ContractViolationError';
  constructor(
    messageName: string,
    readonly issues: readonly FieldIssue[],
  ) {
    super(`${messageName} failed validation: ${formatIssues(issues)}`, 'VALIDATION_FAILED');
  }
}

/** Base of every failure an RPC caller sees; `code` is stable and documented. */
export class RpcError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** No reply within the timeout; the request's `expiration` made the broker drop it if unread. */
export class RpcTimeoutError extends RpcError {
  constructor(pattern: string, timeoutMs: number) {
    super('RPC_TIMEOUT', `${pattern} got no reply within ${timeoutMs} ms`);
    this.name = 'RpcTimeoutError';
  }
}

/** The request could not be handed to the broker, or no queue exists for it. */
export class RpcUnavailableError extends RpcError {
  constructor(pattern: string, reason: string) {
    super('RPC_UNAVAILABLE', `${pattern} could not be sent: ${reason}`);
    this.name = 'RpcUnavailableError';
  }
}

/** The caller gave the call up (unsubscribed from `send()`); no reply is waited for. */
export class RpcCancelledError extends RpcError {
  constructor(pattern: string) {
    super('RPC_CANCELLED', `${pattern} was cancelled by its caller`);
    this.name = 'RpcCancelledError';
  }
}

export interface FieldIssue {
  path: string;
  message: string;
}

export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

export function formatIssues(issues: readonly FieldIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}

/** How any thrown value travels in an RPC error reply. */
export function toRpcErrorBody(error: unknown): RpcErrorBody {
  if (error instanceof ContractViolationError) {
    return { code: error.code, message: error.message, details: { issues: error.issues } };
  }
  if (error instanceof RpcError) {
    return { code: error.code, message: error.message, details: error.details };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'INTERNAL', message: error.message };
  }
  return { code: 'INTERNAL', message: describeError(error) };
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) {
    return String((error as { message: unknown }).message);
  }
  return String(error);
}
