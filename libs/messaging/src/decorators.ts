import { applyDecorators, UseFilters } from '@nestjs/common';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import {
  type EventContract,
  type PayloadOf,
  type RequestOf,
  type ResponseOf,
  type RpcContract,
  versionsOf,
} from '@app/contracts';
import type { RetryOptions } from './messaging.options.js';
import { MessageErrorFilter } from './transport/message-error.filter.js';

const keepHandlerErrors = UseFilters(new MessageErrorFilter());

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

/** One contract, or several versions of one message (the handler then takes their union). */
type OneOrVersions<C> = C | readonly C[];
type Each<C> = C extends readonly (infer E)[] ? E : C;

/**
 * `contract`: the newest accepted version (what a single-contract handler always had);
 * `contracts`: every accepted version, oldest first, which the transport picks from by the
 * message's `x-message-version` (docs/contracts.md).
 */
function contractExtras<C extends RpcContract | EventContract>(contracts: OneOrVersions<C>) {
  const versions = versionsOf(Array.isArray(contracts) ? contracts : [contracts as C]);
  return { name: versions[0]!.name, extras: { contract: versions.at(-1), contracts: versions } };
}

/**
 * `@MessagePattern(contract.name)` that also hands the contract to the transport, which
 * validates each request against it before the handler runs (invalid → error reply), and
 * keeps the handler's errors as they are (MessageErrorFilter).
 * `@HandleRpc([ReserveV1, ReserveV2])` accepts both versions during a rollout.
 */
export function HandleRpc<const C extends OneOrVersions<RpcContract>>(
  contracts: C,
): HandlerDecorator<RequestOf<Each<C>>, ResponseOf<Each<C>>> {
  const { name, extras } = contractExtras<RpcContract>(contracts);
  return applyDecorators(MessagePattern(name, extras), keepHandlerErrors) as HandlerDecorator<
    RequestOf<Each<C>>,
    ResponseOf<Each<C>>
  >;
}

/**
 * `@EventPattern(contract.name)`: binds the service's events queue to the event's routing key
 * and validates each payload (invalid → dead-letter queue, no retry).
 * `@HandleEvent([OrderConfirmed, OrderConfirmedV2])` accepts both versions during a rollout.
 */
export function HandleEvent<const C extends OneOrVersions<EventContract>>(
  contracts: C,
  options: EventHandlerOptions = {},
): HandlerDecorator<PayloadOf<Each<C>>, unknown> {
  const { name, extras } = contractExtras<EventContract>(contracts);
  return applyDecorators(
    EventPattern<string>(name, { ...extras, retry: options.retry }),
    keepHandlerErrors,
  ) as HandlerDecorator<PayloadOf<Each<C>>, unknown>;
}
