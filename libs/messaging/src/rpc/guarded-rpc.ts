import type { AmqpConnection } from '../connection/amqp-connection.js';
import { MessageContext } from '../context/message-context.js';
import { RpcCancelledError, RpcTimeoutError, RpcUnavailableError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { MessagingObservers } from '../observability/observers.js';
import { rpcQueue, serviceOfRpc } from '../topology/names.js';
import type { Sender } from '../wire/properties.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import { RpcCaller } from './rpc-caller.js';

export interface CallOptions {
  timeoutMs?: number;
  /** Aborting gives the call up: it rejects with RpcCancelledError and waits for nothing. */
  signal?: AbortSignal;
  /** Extra AMQP headers for the request (the transport's own `x-…` headers win). */
  headers?: Record<string, unknown>;
}

/**
 * RPCs as the client makes them: each behind its service's circuit breaker, with the
 * default timeout, the request's correlation id and the observers' headers, timed and told
 * to the observers. The RpcCaller (its channel) opens on the first call.
 */
export class GuardedRpc {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private caller?: RpcCaller;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: ResolvedMessagingOptions,
    private readonly sender: Sender,
    private readonly observers: MessagingObservers,
  ) {}

  /** Opens the channel now rather than on the first call. */
  open(): void {
    this.callerNow();
  }

  /** State of the circuit of every service called so far. */
  circuits(): Record<string, CircuitState> {
    return Object.fromEntries([...this.breakers].map(([service, b]) => [service, b.state]));
  }

  /** Resolves with the reply's `data`; rejects with an RpcError (or RpcCircuitOpenError). */
  async call(
    pattern: string,
    version: number,
    payload: unknown,
    options: CallOptions = {},
  ): Promise<unknown> {
    const service = serviceOfRpc(pattern);
    const breaker = this.breakerFor(service);
    const started = performance.now();
    try {
      breaker?.admit();
    } catch (error) {
      this.observers.rpcCompleted(pattern, 0, 'circuit-open');
      throw error;
    }
    const timeoutMs = options.timeoutMs ?? this.options.rpcTimeoutMs;
    const observed = this.observers.active
      ? this.observers.headers(
          { kind: 'rpc-request', type: pattern, exchange: '', routingKey: rpcQueue(service) },
          undefined,
        )
      : undefined;
    const extraHeaders = options.headers ? { ...options.headers, ...observed } : observed;
    try {
      const data = await this.callerNow().call(
        pattern,
        version,
        payload,
        timeoutMs,
        MessageContext.correlationId(),
        extraHeaders,
        options.signal,
      );
      breaker?.succeeded();
      this.observers.rpcCompleted(pattern, performance.now() - started, 'ok');
      return data;
    } catch (error) {
      if (error instanceof RpcCancelledError) {
        breaker?.released();
        this.observers.rpcCompleted(pattern, performance.now() - started, 'cancelled');
        throw error;
      }
      // An error reply proves the service is alive; only silence and refusal count.
      const silent = error instanceof RpcTimeoutError || error instanceof RpcUnavailableError;
      if (silent) breaker?.failed();
      else breaker?.succeeded();
      const outcome =
        error instanceof RpcTimeoutError ? 'timeout' : silent ? 'unavailable' : 'error';
      this.observers.rpcCompleted(pattern, performance.now() - started, outcome);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.caller?.close();
    this.caller = undefined;
  }

  private breakerFor(service: string): CircuitBreaker | undefined {
    const options = this.options.circuitBreaker;
    if (!options) return undefined;
    let breaker = this.breakers.get(service);
    if (!breaker) this.breakers.set(service, (breaker = new CircuitBreaker(service, options)));
    return breaker;
  }

  private callerNow(): RpcCaller {
    return (this.caller ??= new RpcCaller(this.connection, this.sender));
  }
}
