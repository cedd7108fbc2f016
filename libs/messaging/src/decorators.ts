import { EventPattern, MessagePattern } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import type { EventContract, PayloadOf, RequestOf, ResponseOf, RpcContract } from '@app/contracts';
import type { RetryOptions } from './messaging.options.js';

export interface EventHandlerOptions {
  /** Overrides the service's retry policy for this handler (its delay queues are declared too). */
  retry?: Partial<RetryOptions>;
}

type Returns<T> = T | Promise<T> | Observable<T>;

/** A method decorator that type-checks the handler against its contract. */
type HandlerDecorator<In, Out> = <M extends (input: In, ...rest: never[]) => Returns<Out>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;

/**
 * `@MessagePattern(contract.name)` that also hands the contract to the transport, which
 * validates each request against it before the handler runs (invalid → error reply).
 */
export function HandleRpc<C extends RpcContract>(
  contract: C,
): HandlerDecorator<RequestOf<C>, ResponseOf<C>> {
  return MessagePattern(contract.name, { contract }) as HandlerDecorator<
    RequestOf<C>,
    ResponseOf<C>
  >;
}

/**
 * `@EventPattern(contract.name)`: binds the service's events queue to the event's routing key
 * and validates each payload (invalid → dead-letter queue, no retry).
 */
export function HandleEvent<C extends EventContract>(
  contract: C,
  options: EventHandlerOptions = {},
): HandlerDecorator<PayloadOf<C>, unknown> {
  const extras = { contract, retry: options.retry };
  return EventPattern<string>(contract.name, extras) as HandlerDecorator<PayloadOf<C>, unknown>;
}
