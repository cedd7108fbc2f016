import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OrderConfirmed } from '@app/contracts';
import { http } from '../support/http.js';
import { TestSystem } from '../support/system.js';

describe('with RABBITMQ_QUEUE_TYPE=quorum', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start('quorum', { env: { RABBITMQ_QUEUE_TYPE: 'quorum' } });
  });

  afterAll(() => system?.stop());

  it('declares every work, delay and dead-letter queue as a quorum queue with its safety limits', async () => {
    const queues = await system.admin.queues(system.vhost);
    const byName = new Map(queues.map((q) => [q.name, q]));
    for (const name of [
      'inventory.rpc',
      'inventory.events',
      'inventory.dlq',
      'notification.events',
      'notification.dlq',
    ]) {
      expect(byName.get(name)?.arguments).toMatchObject({ 'x-queue-type': 'quorum' });
    }
    expect(byName.get('notification.events')?.arguments).toMatchObject({ 'x-delivery-limit': 20 });
    expect(byName.get('notification.events.retry.200ms')?.arguments).toMatchObject({
      'x-queue-type': 'quorum',
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    });
  });

  it('runs the order flow, including a retry through a quorum delay queue', async () => {
    await http('PUT', system.url('inventory', '/stock/QUORUM-1'), { available: 5 });
    const order = await http('POST', system.url('order', '/orders'), {
      customerEmail: 'quorum@example.com',
      items: [{ sku: 'QUORUM-1', quantity: 2 }],
    });
    expect(order.body.status).toBe('CONFIRMED');
    await system.smtp.waitForMail('quorum@example.com', `Order ${order.body.id} confirmed`);

    // SMTP refuses the first delivery's 3 tries: the retry comes back through the delay queue.
    const orderId = randomUUID();
    system.smtp.refuseNext = 3;
    await system.probe.publishEvent(OrderConfirmed.name, {
      orderId,
      customerEmail: 'quorum@example.com',
      items: [{ sku: 'QUORUM-1', quantity: 1 }],
      occurredAt: new Date().toISOString(),
    });
    await system.smtp.waitForMail('quorum@example.com', `Order ${orderId} confirmed`);
    expect(system.smtp.mailsTo('quorum@example.com', orderId)).toHaveLength(1);
  });
});
