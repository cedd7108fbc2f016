import { describe, expect, it } from '@jest/globals';
import { CircuitBreaker, RpcCircuitOpenError } from './circuit-breaker.js';

function breaker(failureThreshold = 3, cooldownMs = 1_000) {
  const clock = { now: 0 };
  return {
    clock,
    breaker: new CircuitBreaker('inventory', { failureThreshold, cooldownMs }, () => clock.now),
  };
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold and resets the count on a success', () => {
    const { breaker: b } = breaker(3);
    b.failed();
    b.failed();
    b.succeeded();
    b.failed();
    b.failed();
    expect(b.state).toBe('closed');
    expect(() => b.admit()).not.toThrow();
  });

  it('opens after the threshold of consecutive failures and fails calls at once', () => {
    const { breaker: b } = breaker(3);
    for (let i = 0; i < 3; i++) b.failed();
    expect(b.state).toBe('open');
    expect(() => b.admit()).toThrow(RpcCircuitOpenError);
    expect(() => b.admit()).toThrow(expect.objectContaining({ code: 'RPC_CIRCUIT_OPEN' }));
  });

  it('lets exactly one probe through after the cool-down', () => {
    const { breaker: b, clock } = breaker(1, 1_000);
    b.failed();
    clock.now = 999;
    expect(() => b.admit()).toThrow(RpcCircuitOpenError);
    clock.now = 1_000;
    expect(() => b.admit()).not.toThrow();
    expect(b.state).toBe('half-open');
    expect(() => b.admit()).toThrow(RpcCircuitOpenError);
  });

  it('closes when the probe succeeds', () => {
    const { breaker: b, clock } = breaker(1, 1_000);
    b.failed();
    clock.now = 1_000;
    b.admit();
    b.succeeded();
    expect(b.state).toBe('closed');
    expect(() => b.admit()).not.toThrow();
  });

  it('re-opens for a full cool-down when the probe fails', () => {
    const { breaker: b, clock } = breaker(5, 1_000);
    for (let i = 0; i < 5; i++) b.failed();
    clock.now = 1_500;
    b.admit();
    b.failed(); // one failure is enough in half-open
    expect(b.state).toBe('open');
    clock.now = 2_400;
    expect(() => b.admit()).toThrow(RpcCircuitOpenError);
    clock.now = 2_500;
    expect(() => b.admit()).not.toThrow();
  });

  it('frees the probe slot of a call its caller gave up, without a verdict', () => {
    const { breaker: b, clock } = breaker(1, 1_000);
    b.failed();
    clock.now = 1_000;
    b.admit(); // the probe
    b.released();
    expect(b.state).toBe('half-open');
    expect(() => b.admit()).not.toThrow(); // the next call may probe
  });
});
