// A measurement, not a test: `npm run measure:scaling` (docs/scaling.md has the numbers).
// Events per second that 1, 2 and 4 replicas of notification (child processes, each sending
// real e-mails over SMTP and recording them in PostgreSQL) take out of their shared queue.
// Writes bench/results/scaling-<start time>.json, the file docs/scaling.md cites.
import { randomUUID } from 'node:crypto';
import { describe, it } from '@jest/globals';
import amqplib from 'amqplib';
import { OrderConfirmed } from '@app/contracts';
import { brokerUserOf, EVENTS_EXCHANGE } from '@app/messaging';
import { waitFor } from '@app/messaging/testing';
import {
  machineInfo,
  RESULTS_DIR,
  resultsFile,
  writeResults,
} from '../../bench/support/results.js';
import { type FaultSystem, usePrivateBroker, withFaultSystem } from './support/fault-system.js';

const EVENTS = Number(process.env.SCALING_EVENTS ?? 2_000);
const REPLICAS = [1, 2, 4];

describe('notification replicas sharing notification.events', () => {
  const broker = usePrivateBroker();

  it(
    `drains ${EVENTS} order.confirmed events with ${REPLICAS.join(' / ')} replicas`,
    () =>
      withFaultSystem(broker(), 'scaling', {}, async (system) => {
        const startedAt = new Date();
        const machine = machineInfo();
        const runs: { replicas: number; seconds: number; eventsPerSecond: number }[] = [];
        for (const replicas of REPLICAS) {
          while (system.instances('notification').length < replicas) {
            await system.addReplica('notification');
          }
          const seconds = await drain(system, EVENTS);
          runs.push({
            replicas,
            seconds: Math.round(seconds * 100) / 100,
            eventsPerSecond: Math.round(EVENTS / seconds),
          });
        }
        const file = resultsFile(RESULTS_DIR, startedAt, 'scaling-');
        await writeResults(file, {
          measurement: 'npm run measure:scaling',
          what: 'order.confirmed events drained by notification replicas (child processes): e-mail over SMTP + inbox + record in PostgreSQL',
          startedAt: startedAt.toISOString(),
          finishedAt: new Date().toISOString(),
          machine,
          eventsPerRun: EVENTS,
          runs,
          file,
        });
        const summary = runs.map((r) => `${r.replicas} replica(s): ${r.eventsPerSecond} events/s`);
        process.stderr.write(`  [scaling] ${EVENTS} events each; ${summary.join('; ')}; ${file}\n`);
      }),
    600_000,
  );
});

/**
 * Publishes `count` events at once (with confirms) and returns the seconds from the first
 * publish until every one of them has been e-mailed.
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
        // As order would: notification takes order.confirmed from order's broker user only.
        userId: brokerUserOf([system.env.RABBITMQ_URL!]),
        headers: { 'x-message-version': OrderConfirmed.version },
      });
    }
    await channel.waitForConfirms();
    await waitFor(`${count} e-mails`, () => system.smtp.mails.length >= before + count, {
      timeoutMs: 300_000,
      intervalMs: 20,
    });
    return (performance.now() - start) / 1000;
  } finally {
    await connection.close();
  }
}
