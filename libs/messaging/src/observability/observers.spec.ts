import { describe, expect, it } from '@jest/globals';
import {
  type ConsumeScope,
  type MessagingObserver,
  MessagingObservers,
  type PublishInfo,
} from './observers.js';

const info: PublishInfo = {
  kind: 'event',
  type: 'order.created',
  exchange: 'events',
  routingKey: 'order.created',
};

describe('MessagingObservers', () => {
  it('returns the very same headers object when no observer adds anything', () => {
    const observers = new MessagingObservers();
    const base = { 'x-message-version': 1 };
    expect(observers.headers(info, base)).toBe(base);
    observers.add({ outgoingHeaders: () => undefined });
    expect(observers.headers(info, base)).toBe(base);
  });

  it('merges what every observer adds without touching the base object', () => {
    const observers = new MessagingObservers();
    observers.add({ outgoingHeaders: () => ({ traceparent: '00-abc-def-01' }) });
    observers.add({ outgoingHeaders: (i) => ({ 'x-kind': i.kind }) });
    const base = { 'x-message-version': 1 };
    expect(observers.headers(info, base)).toEqual({
      'x-message-version': 1,
      traceparent: '00-abc-def-01',
      'x-kind': 'event',
    });
    expect(base).toEqual({ 'x-message-version': 1 });
    expect(observers.headers(info, undefined)).toEqual({
      traceparent: '00-abc-def-01',
      'x-kind': 'event',
    });
  });

  it('runs a handler inside every scope, outermost first, and reports the outcome to each', async () => {
    const calls: string[] = [];
    const scopeOf = (name: string): MessagingObserver => ({
      consuming: (): ConsumeScope => ({
        run: async (work) => {
          calls.push(`${name}:in`);
          const result = await work();
          calls.push(`${name}:out`);
          return result;
        },
        end: (outcome) => calls.push(`${name}:${outcome}`),
      }),
    });
    const observers = new MessagingObservers();
    observers.add(scopeOf('a'));
    observers.add(scopeOf('b'));
    const scope = observers.consuming({ kind: 'event', type: 't', queue: 'q', headers: {} });
    const result = await scope.run(async () => {
      calls.push('handler');
      return 42;
    });
    scope.end('acked');
    expect(result).toBe(42);
    expect(calls).toEqual(['a:in', 'b:in', 'handler', 'b:out', 'a:out', 'a:acked', 'b:acked']);
  });

  it('is inactive and costs nothing to consume through when nobody observes', async () => {
    const observers = new MessagingObservers();
    expect(observers.active).toBe(false);
    const scope = observers.consuming({ kind: 'rpc', type: undefined, queue: 'q', headers: {} });
    await expect(scope.run(async () => 'done')).resolves.toBe('done');
    expect(() => scope.end('replied')).not.toThrow();
  });
});
