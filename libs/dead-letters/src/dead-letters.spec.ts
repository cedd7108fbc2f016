import { describe, expect, it } from '@jest/globals';
import { deadLetterQueueName } from './dead-letters.js';

describe('deadLetterQueueName', () => {
  it('turns a service name into its dead-letter queue', () => {
    expect(deadLetterQueueName('notification')).toBe('notification.dlq');
  });

  it('keeps a full dead-letter queue name', () => {
    expect(deadLetterQueueName('notification.dlq')).toBe('notification.dlq');
    expect(deadLetterQueueName(' inventory.dlq ')).toBe('inventory.dlq');
  });

  it('refuses an empty name', () => {
    expect(() => deadLetterQueueName('  ')).toThrow(/service/);
  });
});
