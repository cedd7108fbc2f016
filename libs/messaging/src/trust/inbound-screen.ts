import type { MessageHandler } from '@nestjs/microservices';
import type { ConsumeMessage } from 'amqplib';
import type { MessageContract } from '@app/contracts';
import { HeaderNames } from '../constants.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { DeathReason } from '../retry/failure-handler.js';
import { EVENTS_EXCHANGE, serviceExchange } from '../topology/names.js';
import type { IncomingMeta } from '../wire/properties.js';

/** Why a delivery is refused before its body is read; it goes to the DLQ with this reason. */
export interface Refusal {
  reason: DeathReason;
  error: string;
}

/**
 * Who may send this service what, checked on every delivery before its body is parsed
 * (docs/security.md). It relies on the AMQP `user_id` property, which RabbitMQ refuses unless
 * it names the publishing connection's user, so a publisher cannot claim another's identity:
 * - an event must come through `events` with its `type` as routing key, from the broker user
 *   of the service that owns it (its contract's `owner`);
 * - a copy of one this service moved (a retry coming back, a DLQ replay) must come through the
 *   service's own exchange (`<service>.dlx`), from its own user or its DLQ tool's
 *   (`brokerUsers['<service>-dlq']`), and pass the first rule on what the service recorded of
 *   the original (`x-original-exchange`, `-routing-key`, `-user-id`);
 * - an RPC request must come from a caller its contract names (`callers`).
 * What each handler accepts is worked out once, when the server starts.
 */
export class InboundScreen {
  private readonly ownExchange: string;
  private readonly movers: ReadonlySet<string>;
  private readonly senders = new Map<string, ReadonlySet<string>>();

  constructor(
    private readonly options: Pick<
      ResolvedMessagingOptions,
      'service' | 'brokerUser' | 'brokerUsers' | 'maxMessageBytes'
    >,
    handlers: ReadonlyMap<string, MessageHandler>,
  ) {
    this.ownExchange = serviceExchange(options.service);
    this.movers = new Set([this.userOf(options.service), this.userOf(`${options.service}-dlq`)]);
    for (const [pattern, handler] of handlers) {
      this.senders.set(
        pattern,
        new Set(this.sendersOf(pattern, handler).map((s) => this.userOf(s))),
      );
    }
  }

  /** Checked first: a body past the limit is never parsed. */
  size(msg: ConsumeMessage): Refusal | undefined {
    const bytes = msg.content.length;
    if (bytes <= this.options.maxMessageBytes) return undefined;
    return {
      reason: 'too-large',
      error: `body of ${bytes} bytes exceeds the limit of ${this.options.maxMessageBytes}`,
    };
  }

  event(msg: ConsumeMessage, meta: IncomingMeta): Refusal | undefined {
    const { exchange, routingKey } = msg.fields;
    const userId = msg.properties.userId as string | undefined;
    if (exchange === this.ownExchange) {
      if (!this.movers.has(userId ?? '')) {
        return untrusted(`a copy on ${exchange} from user ${describe(userId)}, not this service's`);
      }
      // A copy (retry, replay) is judged by how the original arrived, which this service
      // recorded when it first failed: a replay cannot launder what was refused.
      const h = meta.headers;
      return this.arrival(
        str(h[HeaderNames.originalExchange]),
        str(h[HeaderNames.originalRoutingKey]),
        str(h[HeaderNames.originalUserId]),
        meta.type,
      );
    }
    return this.arrival(exchange, routingKey, userId, meta.type);
  }

  request(msg: ConsumeMessage, meta: IncomingMeta): Refusal | undefined {
    return this.fromAllowed(meta.type!, msg.properties.userId as string | undefined);
  }

  private arrival(
    exchange: string | undefined,
    routingKey: string | undefined,
    userId: string | undefined,
    type: string | undefined,
  ): Refusal | undefined {
    if (exchange !== EVENTS_EXCHANGE || routingKey !== type) {
      return {
        reason: 'invalid',
        error: `type "${type}" arrived through "${exchange}" with routing key "${routingKey}": events travel on ${EVENTS_EXCHANGE} with their type as routing key`,
      };
    }
    return this.fromAllowed(type!, userId);
  }

  /** The broker user a service connects as; one shared user when none is configured. */
  private userOf(service: string): string {
    return this.options.brokerUsers[service] ?? this.options.brokerUser;
  }

  private fromAllowed(type: string, userId: string | undefined): Refusal | undefined {
    if (userId !== undefined && this.senders.get(type)?.has(userId)) return undefined;
    return untrusted(`${type} from user ${describe(userId)}, which may not send it`);
  }

  /**
   * The services a handler accepts its message from. Without a contract, the naming rules
   * stand in: an event's owner is its name's prefix; an RPC any configured service may call.
   */
  private sendersOf(pattern: string, handler: MessageHandler): string[] {
    const contract = handler.extras?.contract as MessageContract | undefined;
    if (handler.isEventHandler) return [contract?.owner ?? pattern.split('.')[0]!];
    if (contract?.kind === 'rpc') return [...contract.callers];
    const known = Object.keys(this.options.brokerUsers);
    return known.length > 0 ? known : [this.options.service];
  }
}

function untrusted(error: string): Refusal {
  return { reason: 'untrusted-publisher', error };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function describe(userId: string | undefined): string {
  return userId === undefined ? '(no user_id)' : `"${userId}"`;
}
