import { RpcError } from '../errors.js';
import type { CircuitBreakerOptions } from '../messaging.options.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Thrown instead of calling a service whose circuit is open. */
export class RpcCircuitOpenError extends RpcError {
  constructor(service: string, retryInMs: number) {
    super('RPC_CIRCUIT_OPEN', `${service} is failing; calls fail fast for another ${retryInMs} ms`);
    this.name = 'RpcCircuitOpenError';
  }
}

/**
 * One breaker per called service. Only failures that say "the service is not answering"
 * count; an error reply means it is alive. While open, calls fail at once (no request is
 * sent, so none can run late); after the cool-down one call probes, and its outcome closes
 * or re-opens the circuit.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private current: CircuitState = 'closed';

  constructor(
    readonly service: string,
    private readonly options: CircuitBreakerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    return this.current;
  }

  /** Throws RpcCircuitOpenError unless a call may go out now. */
  admit(): void {
    if (this.current === 'closed') return;
    const waited = this.now() - this.openedAt;
    if (this.current === 'open' && waited >= this.options.cooldownMs) this.current = 'half-open';
    if (this.current === 'half-open' && !this.probing) {
      this.probing = true;
      return;
    }
    throw new RpcCircuitOpenError(this.service, Math.max(0, this.options.cooldownMs - waited));
  }

  succeeded(): void {
    this.failures = 0;
    this.probing = false;
    this.current = 'closed';
  }

  /** A call admitted but given up by its caller: no verdict on the service, the probe slot freed. */
  released(): void {
    this.probing = false;
  }

  failed(): void {
    this.failures++;
    if (this.current === 'half-open' || this.failures >= this.options.failureThreshold) {
      this.current = 'open';
      this.openedAt = this.now();
    }
    this.probing = false;
  }
}
