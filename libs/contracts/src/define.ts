import { z } from 'zod';

/**
 * A message contract is the single source of truth for one message on the wire:
 * its name (AMQP `type` and, for events, the routing key), its version
 * (`x-message-version` header) and the runtime schema of its JSON body.
 */
interface ContractBase<Name extends string> {
  readonly name: Name;
  readonly version: number;
  readonly description: string;
}

export interface RpcContract<
  Name extends string = string,
  Req extends z.ZodType = z.ZodType,
  Res extends z.ZodType = z.ZodType,
> extends ContractBase<Name> {
  readonly kind: 'rpc';
  readonly request: Req;
  readonly response: Res;
}

export interface EventContract<
  Name extends string = string,
  P extends z.ZodType = z.ZodType,
> extends ContractBase<Name> {
  readonly kind: 'event';
  readonly payload: P;
}

export type MessageContract = RpcContract | EventContract;

export type RequestOf<C extends RpcContract> = z.infer<C['request']>;
export type ResponseOf<C extends RpcContract> = z.infer<C['response']>;
export type PayloadOf<C extends EventContract> = z.infer<C['payload']>;

export function defineRpc<Name extends string, Req extends z.ZodType, Res extends z.ZodType>(
  name: Name,
  spec: { version: number; description: string; request: Req; response: Res },
): RpcContract<Name, Req, Res> {
  return Object.freeze({ kind: 'rpc', name, ...spec });
}

export function defineEvent<Name extends string, P extends z.ZodType>(
  name: Name,
  spec: { version: number; description: string; payload: P },
): EventContract<Name, P> {
  return Object.freeze({ kind: 'event', name, ...spec });
}

/** The schema a consumer validates an incoming message against. */
export function inboundSchema(contract: MessageContract): z.ZodType {
  return contract.kind === 'rpc' ? contract.request : contract.payload;
}
