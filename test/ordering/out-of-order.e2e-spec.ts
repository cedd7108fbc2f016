import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import {
  InventoryReleased,
  InventoryReserve,
  OrderCancelled,
  OrderConfirmed,
  OrderRejected,
} from '@app/contracts';
import { eventsQueue, retryQueue } from '@app/messaging';
import { waitFor } from '@app/messaging/testing';
import { http } from '../support/http.js';
import { TestSystem } from '../support/system.js';

/**
 * Events of one order are not guaranteed to arrive in the order they happened (several outbox
 * relays, re-sends after a reconnect, retries through delay queues, competing consumers,
 * prefetch > 1). These deliver them the wrong way round on purpose and check the outcome is
 * still right: docs/scaling.md, "Ordering".
 */
describe('events of one order arriving out of order', () => {
  const FIRST_DELAY_MS = 1_500;
  let system: TestSystem;
  let amqp: ChannelModel;
  let channel: Channel;

  beforeAll(async () => {
    system = await TestSystem.start('ordering', {
      services: ['inventory', 'notification'],
      // No in-process retries: a held-back event goes straight to the first delay queue.
      env: { RETRY_IMMEDIATE: '0', RETRY_DELAYS_MS: `${FIRST_DELAY_MS},3000,6000` },
    });
    amqp = await amqplib.connect(system.rabbitUrl);
    channel = await amqp.createChannel();
  });

  afterAll(async () => {
    await amqp?.close();
    await system?.stop();
  });

  const orderEvent = (orderId: string, customerEmail: string, quantity = 1) => ({
    orderId,
    customerEmail,
    items: [{ sku: 'ORDERING-1', quantity }],
    occurredAt: new Date().toISOString(),
  });

  const publish = (type: string, body: unknown, messageId = randomUUID()) =>
    system.probe.publishEvent(type, body, { messageId });

  /** Messages ready in a queue, straight from the broker (no statistics delay). */
  const ready = async (queue: string) => (await channel.checkQueue(queue)).messageCount;

  it('e-mails the confirmation before the cancellation when order.cancelled arrives first', async () => {
    const orderId = randomUUID();
    const to = 'reordered@example.com';
    await publish(OrderCancelled.name, orderEvent(orderId, to));

    // Held back, not sent: the cancellation waits in the first delay queue.
    const delayQueue = retryQueue(eventsQueue('notification'), FIRST_DELAY_MS);
    await waitFor('the cancellation to wait in a delay queue', async () => {
      return (await ready(delayQueue)) === 1;
    });
    expect(system.smtp.mailsTo(to)).toEqual([]);

    await publish(OrderConfirmed.name, orderEvent(orderId, to));
    await system.smtp.waitForMail(to, `Order ${orderId} cancelled`);
    expect(system.smtp.mailsTo(to).map((m) => m.subject)).toEqual([
      `Order ${orderId} confirmed`,
      `Order ${orderId} cancelled`,
    ]);
    const rows = await http('GET', system.url('notification', `/notifications?orderId=${orderId}`));
    expect(rows.body).toHaveLength(2);
  });

  it('returns stock once, and never takes it again, whatever order reserve, cancel and reject arrive in', async () => {
    await http('PUT', system.url('inventory', '/stock/ORDERING-1'), { available: 10 });
    const orderId = randomUUID();
    const request = { orderId, items: [{ sku: 'ORDERING-1', quantity: 4 }] };
    const client = await system.rpcClient();
    expect(await client.request(InventoryReserve, request)).toMatchObject({ status: 'RESERVED' });
    const acksBefore = await acks('inventory.events');

    // The cancellation twice (a redelivery) and, racing it, a conflicting rejection.
    const cancelled = orderEvent(orderId, 'stock@example.com', 4);
    const messageId = randomUUID();
    await publish(OrderCancelled.name, cancelled, messageId);
    await publish(OrderRejected.name, { ...cancelled, reason: 'INVENTORY_UNAVAILABLE', skus: [] });
    await publish(OrderCancelled.name, cancelled, messageId);
    await waitFor('inventory to have handled all three', async () => {
      return (await acks('inventory.events')) >= acksBefore + 3;
    });

    // The reservation request again, after the release (a caller's late retry): refused.
    expect(await client.request(InventoryReserve, request)).toMatchObject({
      status: 'REJECTED',
      reason: 'ORDER_CLOSED',
    });
    const stock = await http('GET', system.url('inventory', '/stock/ORDERING-1'));
    expect(stock.body.available).toBe(10); // released once: twice would make it 14
    await system.probe.next(InventoryReleased, { where: (e) => e.orderId === orderId });
    expect(system.probe.all(InventoryReleased, (e) => e.orderId === orderId)).toHaveLength(1);
  });

  /** Messages acked from `queue` so far (management statistics: they lag, never run ahead). */
  async function acks(queue: string): Promise<number> {
    const info = (await system.admin.queue(system.vhost, queue)) as
      { message_stats?: { ack?: number } } | undefined;
    return info?.message_stats?.ack ?? 0;
  }
});
