import { setTimeout as outage } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/messaging/testing';
import { usePrivateBroker, withFaultSystem } from './support/fault-system.js';
import { underLoad } from './support/invariants.js';
import { SERVICES } from './support/processes.js';
import { ConnectionWitness } from './support/witness.js';

const SKU = 'FAULT-NET';
const STOCK = 10_000;
const CASE_TIMEOUT_MS = 120_000;
/** Short enough that a silent connection is given up within seconds (two heartbeats). */
const HEARTBEAT_SECONDS = 2;
/** Long enough for readiness to see the missing confirms (2 s) before the connection goes. */
const PUBLISH_TIMEOUT_MS = 4_000;

/** Every service's AMQP connection goes through a TCP proxy the test controls. */
describe('network failures between the services and the broker, under load', () => {
  const broker = usePrivateBroker();

  it(
    'delivers everything once after the connections freeze for a few seconds',
    () =>
      withFaultSystem(broker(), 'stall', { brokerProxy: true }, async (system) => {
        const proxy = system.brokerProxy!;
        let window = { from: 0, to: 0 };
        const outcome = await underLoad(system, { sku: SKU, stock: STOCK }, async (load) => {
          const connections = await ConnectionWitness.take(broker(), system);
          const from = Date.now();
          expect(proxy.stall()).toBeGreaterThanOrEqual(SERVICES.length);
          await outage(5_000); // below 2 heartbeats (10 s): the connections survive, frozen
          proxy.resume();
          window = { from, to: Date.now() };
          await load.waitForConfirmed(4);
          // The connections survived the freeze: no process had to reconnect.
          expect(await connections.changed()).toEqual([]);
          // Witness: while frozen, nothing was confirmed (the RPC and the events wait in the
          // proxy), though the clients kept ordering; a request answered up to a second after
          // the freeze began had its reply on the way already.
          const inWindow = (t: number) => t > window.from + 1_000 && t < window.to;
          expect(
            load.accepted.filter((o) => o.status === 'CONFIRMED' && inWindow(o.answeredAt)),
          ).toEqual([]);
          expect(load.accepted.some((o) => inWindow(o.sentAt))).toBe(true);
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
          let connections = await ConnectionWitness.take(broker(), system);
          expect(proxy.cut()).toBeGreaterThanOrEqual(SERVICES.length);
          await connections.reconnected();
          await load.waitForConfirmed(4);
          // Cut again, and keep the port shut for a moment: reconnects must keep trying.
          connections = await ConnectionWitness.take(broker(), system);
          proxy.refuse(true);
          expect(proxy.cut()).toBeGreaterThanOrEqual(SERVICES.length);
          await outage(2_000);
          proxy.refuse(false);

          await connections.reconnected();
          await system.waitReady();
        });
      }),
    CASE_TIMEOUT_MS,
  );

  it(
    'detects a silently dead connection by its heartbeat, reconnects and loses nothing',
    () =>
      withFaultSystem(
        broker(),
        'silent',
        { brokerProxy: true, env: { RABBITMQ_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS) } },
        async (system) => {
          const proxy = system.brokerProxy!;
          await underLoad(system, { sku: SKU, stock: STOCK }, async (load) => {
            const connections = await ConnectionWitness.take(broker(), system);
            // The open connections freeze for good, no FIN, no RST: only a heartbeat can tell.
            // New connections pass, so a process that gave up on its old one gets through.
            expect(proxy.stallOpen()).toBeGreaterThanOrEqual(SERVICES.length);
            await connections.reconnected();
            // Witness: every process replaced its connection while the old one was still
            // frozen in the proxy, and said why (amqplib's own heartbeat check).
            expect(proxy.frozenConnections).toBeGreaterThanOrEqual(SERVICES.length);
            for (const name of SERVICES) {
              expect(system.service(name).logs()).toContain('Heartbeat timeout');
            }
            await load.waitForConfirmed(4);
            proxy.resume();
          });
        },
      ),
    CASE_TIMEOUT_MS,
  );

  it(
    'replaces a connection on which the broker leaves publishes unconfirmed, long before any heartbeat would',
    () =>
      withFaultSystem(
        broker(),
        'unconfirmed',
        {
          brokerProxyFor: ['order'],
          // Heartbeats could not tell within the case (two of 60 s); only the publish timeout can.
          env: {
            RABBITMQ_HEARTBEAT_SECONDS: '60',
            RABBITMQ_PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
          },
        },
        async (system) => {
          const proxy = system.brokerProxy!;
          await underLoad(system, { sku: SKU, stock: STOCK }, async (load) => {
            const connections = await ConnectionWitness.take(broker(), system, ['order']);
            // Order's connection stays open and takes its publishes, and nothing comes back:
            // what a client sees of a node cut off from its cluster.
            expect(proxy.stallOpen()).toBeGreaterThanOrEqual(1);
            // Readiness said so while the confirms were missing.
            const notReady = await waitFor(
              "order's readiness to report unconfirmed publishes",
              async () => {
                const res = await fetch(system.url('order', '/health/ready'));
                const body = (await res.json()) as { details?: Record<string, unknown> };
                return res.status === 503 && JSON.stringify(body.details?.rabbitmq);
              },
              { timeoutMs: PUBLISH_TIMEOUT_MS + 5_000, intervalMs: 200 },
            );
            expect(notReady).toContain('publishes not confirmed');
            await connections.opened(PUBLISH_TIMEOUT_MS + 15_000);
            // Witness: order gave the frozen connection up by itself while it was still
            // frozen in the proxy, for its unconfirmed publishes, not for a heartbeat.
            expect(proxy.frozenConnections).toBeGreaterThanOrEqual(1);
            const logs = system.service('order').logs();
            expect(logs).toContain('Replacing the RabbitMQ connection');
            expect(logs).not.toContain('Heartbeat timeout');
            await load.waitForConfirmed(4);
            proxy.resume();
          });
        },
      ),
    CASE_TIMEOUT_MS,
  );
});
