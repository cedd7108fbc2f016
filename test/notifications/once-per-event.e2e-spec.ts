import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OrderConfirmed } from '@app/contracts';
import { DeadLetters } from '@app/dead-letters';
import { deadLetterQueue, eventsQueue } from '@app/messaging';
import { waitFor } from '@app/messaging/testing';
import { http } from '../support/http.js';
import { TestSystem } from '../support/system.js';

describe('notification', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start('notify', { services: ['notification'] });
  });

  afterAll(() => system?.stop());

  const confirmed = (orderId: string, customerEmail: string) => ({
    orderId,
    customerEmail,
    items: [{ sku: 'BOOK-1', quantity: 1 }],
    occurredAt: new Date().toISOString(),
  });

  const publish = (body: unknown, messageId: string, type = OrderConfirmed.name) =>
    system.probe.publishEvent(type, body, { messageId });

  const confirmations = { queue: eventsQueue('notification'), type: OrderConfirmed.name };

  it('sends one e-mail for an event delivered twice', async () => {
    const orderId = randomUUID();
    const messageId = randomUUID();
    const before = await system.handled('notification', confirmations);
    await publish(confirmed(orderId, 'twice@example.com'), messageId);
    await publish(confirmed(orderId, 'twice@example.com'), messageId);
    // A later, different event proves the duplicate was consumed, not still waiting.
    const marker = randomUUID();
    await publish(confirmed(marker, 'twice@example.com'), randomUUID());

    await system.smtp.waitForMail('twice@example.com', `Order ${marker} confirmed`);
    await system.waitHandled('notification', confirmations, before + 3);
    expect(system.smtp.mailsTo('twice@example.com', `Order ${orderId}`)).toHaveLength(1);
    const sent = await http('GET', system.url('notification', `/notifications?orderId=${orderId}`));
    expect(sent.body).toHaveLength(1);
    expect(sent.body[0]).toMatchObject({ eventId: messageId, eventType: 'order.confirmed' });
  });

  it('retries while SMTP refuses, then sends exactly once', async () => {
    const orderId = randomUUID();
    // Each delivery makes 3 tries (RETRY_IMMEDIATE=2): the first delivery fails, the
    // retry from the first delay tier succeeds on its second try.
    system.smtp.refuseNext = 4;
    await publish(confirmed(orderId, 'later@example.com'), randomUUID());

    await system.smtp.waitForMail('later@example.com', `Order ${orderId} confirmed`);
    expect(system.smtp.refused).toBe(4);
    expect(system.smtp.mailsTo('later@example.com')).toHaveLength(1);
    const sent = await http('GET', system.url('notification', `/notifications?orderId=${orderId}`));
    expect(sent.body).toHaveLength(1);
  });

  it('dead-letters an e-mail SMTP keeps refusing, and a DLQ replay sends it exactly once', async () => {
    const orderId = randomUUID();
    const messageId = randomUUID();
    system.smtp.refuseNext = 1_000; // down for good: 3 deliveries × 3 tries all fail
    await publish(confirmed(orderId, 'replay@example.com'), messageId);

    const dlq = await DeadLetters.connect(system.rabbitUrl);
    try {
      const listed = await waitFor('the event in the DLQ', async () => {
        const { messages } = await dlq.list('notification', { messageId });
        return messages[0];
      });
      expect(listed).toMatchObject({
        reason: 'retries-exhausted',
        attempts: 3,
        type: 'order.confirmed',
      });
      expect(system.smtp.mailsTo('replay@example.com')).toHaveLength(0);

      system.smtp.refuseNext = 0; // SMTP is back
      const acked = { ...confirmations, outcome: 'acked' };
      const before = await system.handled('notification', acked);
      const { replayed } = await dlq.replay('notification', { messageId });
      expect(replayed).toHaveLength(1);

      await system.smtp.waitForMail('replay@example.com', `Order ${orderId} confirmed`);
      await system.waitHandled('notification', acked, before + 1);
      expect(system.smtp.mailsTo('replay@example.com')).toHaveLength(1);
      expect((await dlq.list('notification', { messageId })).messages).toHaveLength(0);
      // Replaying again finds nothing to send twice.
      expect((await dlq.replay('notification', { messageId })).replayed).toHaveLength(0);
    } finally {
      await dlq.close();
    }
  });

  it('dead-letters an event that fails its contract, without sending anything', async () => {
    const orderId = randomUUID();
    await publish({ orderId, customerEmail: 'not-an-email' }, randomUUID());

    const dead = await system.probe.take(deadLetterQueue('notification'), orderId);
    expect(dead.properties.headers).toMatchObject({
      'x-death-reason': 'invalid',
      'x-service': 'notification',
    });
    expect(dead.properties.headers!['x-error-message']).toContain('customerEmail');
    expect(system.smtp.mails.some((m) => m.subject.includes(orderId))).toBe(false);
  });
});
