// A measurement, not a test: `npm run measure:scaling` (docs/scaling.md has the numbers).
// Events per second that 1, 2 and 4 replicas of notification (child processes, each sending
// real e-mails over SMTP and recording them in PostgreSQL) take out of their shared queue.
import { randomUUID } from 'node:crypto';
import { describe, it } from '@jest/globals';
import amqplib from 'amqplib';
import { OrderConfirmed } from '@app/contracts';
import { EVENTS_EXCHANGE } from '@app/messaging';
import { waitFor } from '@app/messaging/testing';
import { type FaultSystem, usePrivateBroker, withFaultSystem } from './support/fault-system.js';

const EVENTS = Number(process.env.SCALING_EVENTS ?? 2_000);
const REPLICAS = [1, 2, 4];

describe('notification replicas sharing notification.events', () => {
  const broker = usePrivateBroker();

  it(
    `drains ${EVENTS} order.confirmed events with ${REPLICAS.join(' / ')} replicas`,
    () =>
      withFaultSystem(broker(), 'scaling', {}, async (system) => {
        const results: string[] = [];
        for (const replicas of REPLICAS) {
          while (system.instances('notification').length < replicas) {
            await system.addReplica('notification');
          }
          const perSecond = await drain(system, EVENTS);
          results.push(`${replicas} replica(s): ${Math.round(perSecond)} events/s`);
        }
        process.stderr.write(`  [scaling] ${EVENTS} events each; ${results.join('; ')}\n`);
      }),
    600_000,
  );
});

/**
 * Publishes `count` events at once (with confirms) and returns events per second from the
 * first publish until every one of them has been e-mailed.
 */
async function drain(system: FaultSystem, count: number): Promise<number> {
  const before = system.smtp.mails.length;
  const connection = await amqplib.connect(system.env.RABBITMQ_URL!);
  try {
    const channel = await connection.createConfirmChannel();
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const body = {
        orderId: randomUUID(),
        customerEmail: `scale${i}@example.com`,
        items: [{ sku: 'SCALE-1', quantity: 1 }],
        occurredAt: new Date().toISOString(),
      };
      channel.publish(EVENTS_EXCHANGE, OrderConfirmed.name, Buffer.from(JSON.stringify(body)), {
        messageId: randomUUID(),
        type: OrderConfirmed.name,
        contentType: 'application/json',
        persistent: true,
        headers: { 'x-message-version': OrderConfirmed.version },
      });
    }
    await channel.waitForConfirms();
    await waitFor(`${count} e-mails`, () => system.smtp.mails.length >= before + count, {
      timeoutMs: 300_000,
      intervalMs: 20,
    });
    return (count * 1000) / (performance.now() - start);
  } finally {
    await connection.close();
  }
}
