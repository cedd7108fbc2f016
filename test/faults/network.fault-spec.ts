import { setTimeout as outage } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/messaging/testing';
import { usePrivateBroker, withFaultSystem } from './support/fault-system.js';
import { underLoad } from './support/invariants.js';

const SKU = 'FAULT-NET';
const STOCK = 10_000;
const CASE_TIMEOUT_MS = 120_000;

/** Every service's AMQP connection goes through a TCP proxy the test controls. */
describe('network failures between the services and the broker, under load', () => {
  const broker = usePrivateBroker();

  it(
    'delivers everything once after the connections freeze for a few seconds',
    () =>
      withFaultSystem(broker(), 'stall', { brokerProxy: true }, async (system) => {
        const proxy = system.brokerProxy!;
        const outcome = await underLoad(system, { sku: SKU, stock: STOCK }, async () => {
          proxy.stall();
          await outage(5_000); // below 2 heartbeats (10 s): the connections survive, frozen
          proxy.resume();
        });
        expect(outcome.confirmed).toBeGreaterThanOrEqual(16);
      }),
    CASE_TIMEOUT_MS,
  );

  it(
    'reconnects and delivers everything once after every connection is cut, twice',
    () =>
      withFaultSystem(broker(), 'cut', { brokerProxy: true }, async (system) => {
        const proxy = system.brokerProxy!;
        await underLoad(system, { sku: SKU, stock: STOCK }, async (load) => {
          proxy.cut();
          await load.waitForConfirmed(4);
          // Cut again, and keep the port shut for a moment: reconnects must keep trying.
          proxy.refuse(true);
          proxy.cut();
          await outage(2_000);
          proxy.refuse(false);

          await waitFor('the services to reconnect', () => proxy.connections >= 3, {
            timeoutMs: 15_000,
          });
          await system.waitReady();
        });
      }),
    CASE_TIMEOUT_MS,
  );
});
