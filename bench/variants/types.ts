import type { Arrivals } from '../support/arrivals.js';
import type { BenchBody } from '../support/payload.js';

export interface Closeable {
  close(): Promise<void>;
}

/** A client and a server of one variant, connected in this process. */
export interface RpcTarget extends Closeable {
  /** One round trip; resolves with the echoed body. */
  call(body: BenchBody): Promise<unknown>;
}

/** A publisher and its consumer(s) of one variant, connected in this process. */
export interface EventTarget extends Closeable {
  /** Publishes `n` persistent events, pipelined; resolves when the broker has confirmed all. */
  publish(n: number, body: BenchBody): Promise<void>;
  /** Counts what the consumers acked. */
  readonly arrivals: Arrivals;
}

/** A way to stand up one side of a comparison in a vhost of its own. */
export interface Variant<I extends Closeable> {
  name: string;
  /** What differs from the other variants (shown in the table). */
  note?: string;
  start(amqpUrl: string): Promise<I>;
}

/** Prefetch per consumer, the same for every variant. */
export interface ConsumerSettings {
  prefetch: number;
  rpcPrefetch: number;
}
