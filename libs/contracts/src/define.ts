import { z } from 'zod';

/**
 * A message contract is the single source of truth for one version of one message on the
 * wire: its name (AMQP `type` and, for events, the routing key), its version
 * (`x-message-version` header) and the runtime schema of its JSON body. A breaking change is
 * a second contract with the same name and the next version (docs/contracts.md).
 */
interface ContractBase<Name extends string> {
  readonly name: Name;
  readonly version: number;
  readonly description: string;
  /**
   * The service that owns the message: the only publisher of an event, the handler of an
   * RPC. Consumers accept an event only from the owner's broker user (AMQP `user_id`).
   */
  readonly owner: string;
}

export interface RpcContract<
  Name extends string = string,
  Req extends z.ZodType = z.ZodType,
  Res extends z.ZodType = z.ZodType,
> extends ContractBase<Name> {
  readonly kind: 'rpc';
  /** The services allowed to call it: the handler refuses a request from any other user. */
  readonly callers: readonly string[];
  readonly request: Req;
  readonly response: Res;
  /** A valid request and its response: for docs, generated tests and the contract tests. */
  readonly example?: { readonly request: z.input<Req>; readonly response: z.input<Res> };
}

export interface EventContract<
  Name extends string = string,
  P extends z.ZodType = z.ZodType,
> extends ContractBase<Name> {
  readonly kind: 'event';
  readonly payload: P;
  /** A valid payload: for docs, generated tests and the contract tests. */
  readonly example?: z.input<P>;
}

export type MessageContract = RpcContract | EventContract;

export type RequestOf<C extends RpcContract> = z.infer<C['request']>;
export type ResponseOf<C extends RpcContract> = z.infer<C['response']>;
export type PayloadOf<C extends EventContract> = z.infer<C['payload']>;

export function defineRpc<Name extends string, Req extends z.ZodType, Res extends z.ZodType>(
  name: Name,
  spec: {
    version: number;
    description: string;
    owner: string;
    callers: readonly string[];
    request: Req;
    response: Res;
    example?: { request: z.input<Req>; response: z.input<Res> };
  },
): RpcContract<Name, Req, Res> {
  return Object.freeze({ kind: 'rpc', name, ...spec });
}

export function defineEvent<Name extends string, P extends z.ZodType>(
  name: Name,
  spec: { version: number; description: string; owner: string; payload: P; example?: z.input<P> },
): EventContract<Name, P> {
  return Object.freeze({ kind: 'event', name, ...spec });
}

/** The schema a consumer validates an incoming message against. */
export function inboundSchema(contract: MessageContract): z.ZodType {
  return contract.kind === 'rpc' ? contract.request : contract.payload;
}

export function isContract(value: unknown): value is MessageContract {
  const c = value as Partial<MessageContract> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    (c.kind === 'rpc' || c.kind === 'event') &&
    typeof c.name === 'string' &&
    typeof c.version === 'number'
  );
}

/** Every contract a module exports (a namespace's `index.ts`), in export order. */
export function contractsIn(module: Readonly<Record<string, unknown>>): MessageContract[] {
  return Object.values(module).filter(isContract);
}
