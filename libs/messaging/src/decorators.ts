import { EventPattern, MessagePattern } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import type { EventContract, PayloadOf, RequestOf, ResponseOf, RpcContract } from '@app/contracts';

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
): HandlerDecorator<PayloadOf<C>, unknown> {
  return EventPattern<string>(contract.name, { contract }) as HandlerDecorator<
    PayloadOf<C>,
    unknown
  >;
}
