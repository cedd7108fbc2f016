import { describe, expect, it } from '@jest/globals';
import {
  deadLetterQueue,
  EVENTS_EXCHANGE,
  eventsQueue,
  retryQueue,
  rpcQueue,
  serviceOfRpc,
} from './names.js';

describe('topology names', () => {
  it('names each service’s queues after the service', () => {
    expect(rpcQueue('inventory')).toBe('inventory.rpc');
    expect(eventsQueue('notification')).toBe('notification.events');
    expect(deadLetterQueue('order')).toBe('order.dlq');
  });

  it('publishes events on the "events" exchange', () => {
    expect(EVENTS_EXCHANGE).toBe('events');
  });

  it.each([
    [1_000, 'order.events.retry.1s'],
    [10_000, 'order.events.retry.10s'],
    [60_000, 'order.events.retry.1m'],
    [90_000, 'order.events.retry.90s'],
    [600_000, 'order.events.retry.10m'],
    [3_600_000, 'order.events.retry.1h'],
    [7_200_000, 'order.events.retry.2h'],
    [5_400_000, 'order.events.retry.90m'],
    [1_500, 'order.events.retry.1500ms'],
    [250, 'order.events.retry.250ms'],
  ])('names the retry queue for a %i ms delay %s', (delayMs, name) => {
    expect(retryQueue('order.events', delayMs)).toBe(name);
  });

  it('gives different delays different retry queues', () => {
    const names = [1_000, 1_500, 10_000, 60_000].map((d) => retryQueue('order.events', d));

    expect(new Set(names).size).toBe(names.length);
  });
});

describe('serviceOfRpc', () => {
  it('takes the service from the part before the first dot', () => {
    expect(serviceOfRpc('inventory.reserve')).toBe('inventory');
    expect(serviceOfRpc('inventory.stock.adjust')).toBe('inventory');
  });

  it.each(['reserve', '.reserve', ''])('rejects the RPC name %j without a service part', (name) => {
    expect(() => serviceOfRpc(name)).toThrow('must be "<service>.<verb>"');
  });
});
