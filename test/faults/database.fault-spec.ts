import { setTimeout as outage } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/messaging/testing';
import { http } from '../support/http.js';
import { type FaultSystem, usePrivateBroker, withFaultSystem } from './support/fault-system.js';
import { underLoad } from './support/invariants.js';
import type { ServiceName } from './support/processes.js';
import { handled } from './support/witness.js';

const SKU = 'FAULT-DB';
const STOCK = 10_000;
const CASE_TIMEOUT_MS = 120_000;

/**
 * The consumers (inventory, notification) reach PostgreSQL through a proxy; order keeps its
 * database, so orders, their RPCs and their events keep coming while the consumers cannot
 * commit anything. The machine's PostgreSQL itself is never touched.
 */
const CONSUMERS = ['inventory', 'notification'] as const;
const consumersBehindProxy = {
  databaseProxyFor: CONSUMERS,
  // Enough retry budget (~15 s) to outlast the outage; the last tier would dead-letter.
  env: { RETRY_DELAYS_MS: '500,1000,2000,4000,8000' },
};

describe('PostgreSQL out of reach of the consumers, under load', () => {
  const broker = usePrivateBroker();

  /** Sum of the messages held by consumers or parked for a retry, across the vhost. */
  async function unfinished(system: FaultSystem): Promise<number> {
    const depths = await broker().queueDepths(system.vhost);
    return Object.entries(depths)
      .filter(([name]) => !name.endsWith('.dlq'))
      .reduce((n, [name, d]) => n + d.unacked + (name.includes('.retry.') ? d.ready : 0), 0);
  }

  it(
    'holds messages unacked while the database hangs, then processes each once',
    () =>
      withFaultSystem(broker(), 'pg-stall', consumersBehindProxy, async (system) => {
        const db = system.databaseProxy!;
        await underLoad(system, { sku: SKU, stock: STOCK }, async () => {
          expect(db.stall()).toBeGreaterThan(0); // the consumers' pooled connections, frozen
          try {
            await waitFor('consumers to hold messages they cannot commit', async () => {
              return (await unfinished(system)) >= 3;
            });
            await outage(3_000);
            expect(await system.service('notification').status('/health/live')).toBe(200);
            expect(await system.service('notification').status('/health/ready')).toBe(503);
          } finally {
            db.resume();
          }

          await system.waitReady();
        });
      }),
    CASE_TIMEOUT_MS,
  );

  /*
   * PostgreSQL drops connections that transactions hold between two queries (notification
   * holds one across the SMTP send; the outbox relay across its confirms). Each checked-out
   * connection has its own error listener (createDatabase), so the process survives; held
   * sends are refused (451), so they retry and send once: no SMTP-accepted-but-not-committed
   * resend can blur the count.
   */
  it(
    'survives the database dropping connections mid-transaction and processes each message once after',
    () =>
      withFaultSystem(broker(), 'pg-down', consumersBehindProxy, async (system) => {
        const db = system.databaseProxy!;
        await underLoad(system, { sku: SKU, stock: STOCK }, async () => {
          await system.holdSmtp(3);
          // SMTP hangs (notification may hold its whole prefetch there): from here on only the
          // database can make a delivery fail.
          const retried = async () =>
            (await handled(system, 'inventory', 'retried')) +
            (await handled(system, 'notification', 'retried'));
          const retriedBefore = await retried();

          db.refuse(true);
          expect(db.cut()).toBeGreaterThan(0);
          try {
            // Witness: both consumers see the database gone, and deliveries fail on it.
            await waitFor('inventory and notification to report the database down', async () => {
              const ready = await Promise.all(CONSUMERS.map((n) => readiness(system, n)));
              return ready.every((r) => r.status === 503 && r.database === 'down');
            });
            await waitFor('the consumers to park deliveries for a retry', async () => {
              return (await retried()) > retriedBefore;
            });
            system.smtp.release(false);
            await outage(3_000);
            for (const name of CONSUMERS) {
              expect(system.service(name).running).toBe(true);
              expect(await system.service(name).status('/health/live')).toBe(200);
            }
          } finally {
            db.refuse(false);
            system.smtp.release(false);
          }

          await system.waitReady();
        });
      }),
    CASE_TIMEOUT_MS,
  );
});

/** /health/ready of `name`: its status code and what it says of the database. */
async function readiness(
  system: FaultSystem,
  name: ServiceName,
): Promise<{ status: number; database?: string }> {
  const res = await http<{ details?: { database?: { status: string } } }>(
    'GET',
    system.url(name, '/health/ready'),
  );
  return { status: res.status, database: res.body?.details?.database?.status };
}
