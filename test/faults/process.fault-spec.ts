import { setTimeout as outage } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { eventsQueue, rpcQueue } from '@app/messaging';
import { waitFor } from '@app/messaging/testing';
import { type FaultSystem, usePrivateBroker, withFaultSystem } from './support/fault-system.js';
import { underLoad } from './support/invariants.js';

const SKU = 'FAULT-PROC';
const STOCK = 10_000;
const CASE_TIMEOUT_MS = 120_000;

describe('service processes dying or stopping with work in flight', () => {
  const broker = usePrivateBroker();

  /** SMTP hangs with `count` sends in flight, so their deliveries are held unacked. */
  async function sendsInFlight(system: FaultSystem, count: number): Promise<void> {
    await system.holdSmtp(count);
    const depth = await broker().queueDepths(system.vhost);
    expect(depth[eventsQueue('notification')]!.unacked).toBeGreaterThanOrEqual(count);
  }

  it(
    'redelivers what a kill -9 interrupted mid-send to the restarted notification, which sends it once',
    () =>
      withFaultSystem(broker(), 'kill-notify', {}, async (system) => {
        const notification = system.service('notification');
        await underLoad(system, { sku: SKU, stock: STOCK, confirmed: 4 }, async (load) => {
          await sendsInFlight(system, 3);

          await notification.kill();
          expect(notification.exitSignal).toBe('SIGKILL'); // witness: the process died of it
          await waitFor('the SMTP server to see the killed sends disconnect', () => {
            return system.smtp.holdingConnected === 0;
          });
          system.smtp.release();
          await load.waitForConfirmed(4); // orders go on while nobody sends e-mails
          await notification.start();
        });
      }),
    CASE_TIMEOUT_MS,
  );

  it(
    'keeps stock exact when inventory is killed with reservations half-done, then restarted',
    () =>
      withFaultSystem(
        broker(),
        'kill-inventory',
        { databaseProxyFor: ['inventory'] },
        async (system) => {
          const inventory = system.service('inventory');
          const db = system.databaseProxy!;
          await system.addReplica('inventory'); // the other instance goes on with the work
          await underLoad(
            system,
            { sku: SKU, stock: STOCK, load: { concurrency: 4 } },
            async () => {
              // Freeze inventory's database so that reservations hang mid-transaction, then kill it.
              expect(db.stall()).toBeGreaterThan(0);
              // Witness: inventory writes into the frozen connections (its work waits there).
              await waitFor('inventory to write to the frozen database', () => {
                return db.heldFromClients > 0;
              });
              await waitFor('reservations to hang mid-transaction', async () => {
                const depths = await broker().queueDepths(system.vhost);
                return (depths[rpcQueue('inventory')]?.unacked ?? 0) >= 2;
              });
              await inventory.kill();
              expect(inventory.exitSignal).toBe('SIGKILL'); // witness: the process died of it
              db.resume(); // what the dead process had sent (maybe a COMMIT) reaches PostgreSQL now
              await inventory.start();
            },
          );
        },
      ),
    CASE_TIMEOUT_MS,
  );

  it(
    'drains in-flight handlers on SIGTERM, exits 0, and leaves the rest to the next instance',
    () =>
      withFaultSystem(broker(), 'sigterm', {}, async (system) => {
        const notification = system.service('notification');
        await underLoad(system, { sku: SKU, stock: STOCK, confirmed: 4 }, async (load) => {
          await sendsInFlight(system, 3);
          const held = system.smtp.holding;
          const sentBefore = system.smtp.mails.length;

          const exitCode = notification.stop();
          await outage(1_000); // the handlers are still waiting on SMTP: the process must too
          expect(notification.running).toBe(true);
          system.smtp.release();

          expect(await exitCode).toBe(0);
          expect(notification.running).toBe(false); // witness: the process is gone
          // What it held was finished by the old instance, not abandoned.
          expect(system.smtp.mails.length).toBeGreaterThanOrEqual(sentBefore + held);
          await load.waitForConfirmed(4);
          await notification.start();
        });
      }),
    CASE_TIMEOUT_MS,
  );
});
