import type { MessageHandler } from '@nestjs/microservices';
import { contractForVersion, inboundSchema, type MessageContract } from '@app/contracts';
import type { MessageContextData } from '../context/message-context.js';
import { ContractViolationError, PermanentError, toFieldIssues } from '../errors.js';
import type { RetryOptions } from '../messaging.options.js';
import type { IncomingMeta } from '../wire/properties.js';
import type { AmqpContext } from './amqp.context.js';

/** The context a consumed message is handled in: what it causes carries its request's id. */
export function consumeContext(meta: IncomingMeta): MessageContextData {
  return {
    correlationId: meta.requestId ?? meta.messageId ?? 'none',
    messageId: meta.messageId,
    messageType: meta.type,
  };
}

/**
 * Runs one handler call to its end and gives its result. AmqpServer's runs it through
 * Nest's processing hooks, as Nest's own transports do.
 */
export type HandlerRunner = (
  handler: MessageHandler,
  payload: unknown,
  ctx: AmqpContext,
) => Promise<unknown>;

/**
 * Runs a Nest message handler the way the transport needs: payload checked against the
 * handler's contract, the call made by the server's runner, and the in-process tries of the
 * retry policy.
 */
export class HandlerInvoker {
  constructor(
    private readonly defaults: RetryOptions,
    private readonly run: HandlerRunner,
  ) {}

  /**
   * The payload as the contract of its `x-message-version` parses it (a handler may accept
   * several versions: docs/contracts.md); throws ContractViolationError (permanent).
   */
  validate(handler: MessageHandler, type: string, value: unknown, version?: number): unknown {
    const versions = handler.extras?.contracts as readonly MessageContract[] | undefined;
    const contract = versions
      ? contractForVersion(versions, version)
      : (handler.extras?.contract as MessageContract | undefined);
    if (!contract) return value;
    const result = inboundSchema(contract).safeParse(value);
    if (result.success) return result.data;
    const name =
      version === undefined || version === contract.version
        ? type
        : `${type} v${version} (read as v${contract.version})`;
    throw new ContractViolationError(name, toFieldIssues(result.error));
  }

  /**
   * Runs in the caller's context: the consumer enters the message's (`consumeContext`) once
   * for the whole delivery, so the handler, a lazily subscribed Observable and the failure
   * handling after it all see the message's correlation id.
   */
  invoke(handler: MessageHandler, payload: unknown, ctx: AmqpContext): Promise<unknown> {
    return this.run(handler, payload, ctx);
  }

  /** 1 + `retry.immediate` tries, stopping early on a PermanentError; throws the last error. */
  async invokeWithImmediateRetries(
    handler: MessageHandler,
    payload: unknown,
    ctx: AmqpContext,
    retry: RetryOptions,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.invoke(handler, payload, ctx);
        return;
      } catch (error) {
        if (error instanceof PermanentError || attempt >= retry.immediate) throw error;
      }
    }
  }

  /** The service's retry policy, with what the handler's `@HandleEvent(…, { retry })` overrides. */
  retryFor(handler: MessageHandler): RetryOptions {
    const own = handler.extras?.retry as Partial<RetryOptions> | undefined;
    return own ? { ...this.defaults, ...own } : this.defaults;
  }

  /** Every delay any of these handlers may use: each gets its delay queue. */
  retryDelays(handlers: Iterable<MessageHandler>): number[] {
    const delays = [...handlers].flatMap((h) => this.retryFor(h).delaysMs);
    return [...new Set([...this.defaults.delaysMs, ...delays])].sort((a, b) => a - b);
  }
}
