import { Injectable } from '@nestjs/common';

/** What left, or is about to leave, through the broker. */
export interface PublishInfo {
  kind: 'event' | 'rpc-request' | 'rpc-reply';
  type: string;
  exchange: string;
  routingKey: string;
}

/** A delivery a consumer of this service took. */
export interface ConsumeInfo {
  kind: 'event' | 'rpc';
  type: string | undefined;
  queue: string;
  messageId?: string;
  /** The request the message belongs to (`x-request-id`, else `correlation_id`). */
  correlationId?: string;
  headers: Readonly<Record<string, unknown>>;
}

/** How a delivery ended: acked after success, answered, or moved to a retry or dead-letter queue. */
export type ConsumeOutcome = 'acked' | 'replied' | 'retried' | 'dead-lettered' | 'abandoned';

export type RpcOutcome =
  | 'ok'
  | 'error'
  | 'timeout'
  | 'unavailable'
  | 'circuit-open'
  /** The caller gave the call up (unsubscribed from `send()`, aborted its signal). */
  | 'cancelled';

/** Returned by `consuming`: runs the handler in the observer's context and hears how it ended. */
export interface ConsumeScope {
  run<T>(work: () => Promise<T>): Promise<T>;
  /** `detail`: why it failed (the error's message), or the code of an RPC's error reply. */
  end(outcome: ConsumeOutcome, detail?: string): void;
}

/**
 * The seam between the transport and whatever watches it (metrics, tracing). Every method is
 * optional; the transport calls them on its hot path, so they must be cheap and never throw.
 */
export interface MessagingObserver {
  /** Headers to add to an outgoing message, e.g. W3C `traceparent`. */
  outgoingHeaders?(info: PublishInfo): Record<string, string> | undefined;
  /** After the broker confirmed (events) or the message was written (RPC). */
  published?(info: PublishInfo, ok: boolean): void;
  consuming?(info: ConsumeInfo): ConsumeScope | undefined;
  rpcCompleted?(pattern: string, durationMs: number, outcome: RpcOutcome): void;
}

const NO_SCOPE: ConsumeScope = { run: (work) => work(), end: () => undefined };

/**
 * The observers of this process, as one. With none registered (the default) each call is a
 * length check. Observers register at start-up (`add`), e.g. from a metrics module.
 */
@Injectable()
export class MessagingObservers {
  private observers: MessagingObserver[] = [];

  add(observer: MessagingObserver): void {
    this.observers = [...this.observers, observer];
  }

  get active(): boolean {
    return this.observers.length > 0;
  }

  /** The message's headers with what observers add; `base` is returned as is when nothing is. */
  headers<H extends Record<string, unknown> | undefined>(
    info: PublishInfo,
    base: H,
  ): H | Record<string, unknown> {
    let merged: Record<string, unknown> | undefined;
    for (const o of this.observers) {
      const extra = o.outgoingHeaders?.(info);
      if (extra) merged = { ...(merged ?? base), ...extra };
    }
    return merged ?? base;
  }

  published(info: PublishInfo, ok: boolean): void {
    for (const o of this.observers) o.published?.(info, ok);
  }

  consuming(info: ConsumeInfo): ConsumeScope {
    if (this.observers.length === 0) return NO_SCOPE;
    const scopes = this.observers
      .map((o) => o.consuming?.(info))
      .filter((s): s is ConsumeScope => !!s);
    if (scopes.length === 0) return NO_SCOPE;
    return {
      run: <T>(work: () => Promise<T>) =>
        scopes.reduceRight<() => Promise<T>>((inner, scope) => () => scope.run(inner), work)(),
      end: (outcome, detail) => {
        for (const scope of scopes) scope.end(outcome, detail);
      },
    };
  }

  rpcCompleted(pattern: string, durationMs: number, outcome: RpcOutcome): void {
    for (const o of this.observers) o.rpcCompleted?.(pattern, durationMs, outcome);
  }
}
