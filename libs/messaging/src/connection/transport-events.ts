import { ReplaySubject } from 'rxjs';

/** What the transport's `status` observable emits (server and client share one connection). */
export type TransportStatus = 'connected' | 'disconnected' | 'reconnecting';

/**
 * The events `AmqpServer.on()` and `AmqpClient.on()` take, named as Nest's RMQ transport
 * names them (`RmqEvents`), so a Nest user's listeners carry over.
 */
export type TransportEventsMap = {
  /** A connection attempt or a channel failed; the transport keeps retrying by itself. */
  error: (error: Error) => void;
  connect: () => void;
  disconnect: (error?: Error) => void;
  blocked: (arg: { reason: string }) => void;
  unblocked: () => void;
};

type Listeners = { [E in keyof TransportEventsMap]: Set<TransportEventsMap[E]> };

/**
 * The connection's events and status, told to whoever listens. Not an EventEmitter: an
 * `error` with no listener must not throw (the connection logs it and reconnects anyway).
 */
export class TransportEvents {
  readonly status = new ReplaySubject<TransportStatus>(1);
  private readonly listeners: Listeners = {
    error: new Set(),
    connect: new Set(),
    disconnect: new Set(),
    blocked: new Set(),
    unblocked: new Set(),
  };

  on<E extends keyof TransportEventsMap>(event: E, listener: TransportEventsMap[E]): void {
    const set = this.listeners[event] as Set<TransportEventsMap[E]> | undefined;
    if (!set) throw new Error(`Unknown transport event "${String(event)}"`);
    set.add(listener);
  }

  emit<E extends keyof TransportEventsMap>(
    event: E,
    ...args: Parameters<TransportEventsMap[E]>
  ): void {
    for (const listener of this.listeners[event]) {
      (listener as (...a: Parameters<TransportEventsMap[E]>) => void)(...args);
    }
  }
}
