import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqplib from 'amqplib';
import { OrderConfirmed } from '@app/contracts';
import { deadLetterQueue, eventsQueue } from '@app/messaging';
import { waitFor } from '@app/messaging/testing';
import { testApiKeys } from '../support/http.js';
import { TestSystem } from '../support/system.js';

/**
 * A dead-letter queue is bounded (DLQ_MAX_LENGTH, reject-publish): at the bound the broker
 * refuses the move, and the failed message waits in its work queue instead of being dropped.
 */
describe('the bound of a dead-letter queue', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start('dlq-bound', {
      services: ['notification'],
      env: { DLQ_MAX_LENGTH: '1' },
    });
  });

  afterAll(async () => {
    await system?.stop();
  });

  /** Ready messages in `queue`, exactly as the broker counts them now. */
  async function ready(queue: string): Promise<number> {
    const connection = await amqplib.connect(system.rabbitUrl);
    try {
      const ch = await connection.createChannel();
      return (await ch.checkQueue(queue)).messageCount;
    } finally {
      await connection.close();
    }
  }

  it('keeps a failed message in its work queue while the DLQ is full, and moves it once there is room', async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    // Invalid bodies: dead-lettered at once, without retries.
    await system.probe.publishEvent(OrderConfirmed.name, { marker: first });
    await waitFor(
      'the DLQ to hold one message',
      async () => (await ready(deadLetterQueue('notification'))) === 1,
    );

    await system.probe.publishEvent(OrderConfirmed.name, { marker: second });
    // Refused by the full DLQ: not dropped, not in the DLQ, back in (or held from) its work queue.
    const metrics = () =>
      fetch(system.url('notification', '/metrics'), {
        headers: { 'x-api-key': testApiKeys.admin },
      }).then((r) => r.text());
    await waitFor('the move to be refused', async () =>
      /shop_messages_handled_total\{[^}]*outcome="abandoned"[^}]*\} [1-9]/.test(await metrics()),
    );
    expect(await ready(deadLetterQueue('notification'))).toBe(1);

    // Room again: the waiting message moves on by itself.
    await system.probe.take(deadLetterQueue('notification'), first);
    const moved = await system.probe.take(deadLetterQueue('notification'), second, 15_000);
    expect(moved.properties.headers?.['x-death-reason']).toBe('invalid');
    expect(await ready(eventsQueue('notification'))).toBe(0);
  });
});
