import { setTimeout as outage } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { AmqpServer } from '@app/messaging';
import { waitFor, withVhost } from '@app/messaging/testing';
import {
  ProbeEcho,
  recordStatus,
  startProbeApp,
  startProbeCaller,
} from '../messaging/transport-app.js';
import { http } from '../support/http.js';
import { usePrivateBroker, withFaultSystem } from './support/fault-system.js';
import { underLoad } from './support/invariants.js';
import { SERVICES } from './support/processes.js';
import { ConnectionWitness } from './support/witness.js';

const SKU = 'FAULT-BROKER';
const STOCK = 10_000;
const CASE_TIMEOUT_MS = 120_000;

describe('broker failures under load', () => {
  const broker = usePrivateBroker();

  it(
    'loses and duplicates nothing when the broker application stops and starts again, not ready meanwhile',
    () =>
      withFaultSystem(broker(), 'stop-app', {}, async (system) => {
        const outcome = await underLoad(system, { sku: SKU, stock: STOCK }, async () => {
          const connections = await ConnectionWitness.take(broker(), system);
          await broker().ctl('stop_app'); // takes ~5 s itself
          await outage(2_000);
          for (const name of SERVICES) {
            // Not ready without the broker (503, rabbitmq down), but alive: not to be restarted.
            await waitFor(`${name} to answer /health/ready with 503, rabbitmq down`, async () => {
              const ready = await http<Health>('GET', system.url(name, '/health/ready'));
              return ready.status === 503 && ready.body?.details?.rabbitmq?.status === 'down';
            });
            expect(await system.service(name).status('/health/live')).toBe(200);
          }
          await broker().ctl('start_app');

          await connections.reconnected();
          await system.waitReady(); // every /health/ready back to 200
        });
        expect(outcome.confirmed).toBeGreaterThanOrEqual(16);
      }),
    CASE_TIMEOUT_MS,
  );

  it(
    'loses and duplicates nothing when the broker closes every connection',
    () =>
      withFaultSystem(broker(), 'close-conns', {}, async (system) => {
        await system.addReplica('inventory'); // two inventories compete for the scarce stock
        await underLoad(system, { sku: SKU, stock: STOCK }, async (load) => {
          for (const round of [1, 2]) {
            // Witness: the broker's count of closed connections, and every process on a new one.
            const connections = await ConnectionWitness.take(broker(), system);
            const closed = await broker().closeConnections(system.vhost);
            expect(closed).toBeGreaterThanOrEqual(SERVICES.length);
            await connections.reconnected();
            if (round === 1) await load.waitForConfirmed(4);
          }

          await system.waitReady();
        });
      }),
    CASE_TIMEOUT_MS,
  );

  /** Each resource alarm: how to raise it on the node, how to clear it, what publishers hear. */
  const alarms = [
    {
      resource: 'memory',
      raise: ['set_vm_memory_high_watermark', '0'],
      clear: ['set_vm_memory_high_watermark', '0.4'],
      reason: /memory/,
    },
    {
      // A free-space limit far above what the disk has (https://www.rabbitmq.com/docs/disk-alarms).
      resource: 'disk',
      raise: ['set_disk_free_limit', '100000GB'],
      clear: ['set_disk_free_limit', '50MB'],
      reason: /disk/,
    },
  ];

  it.each(alarms)(
    'blocks publishers during a $resource alarm without crashing anyone, and resumes after it',
    ({ resource, raise, clear, reason }) =>
      withFaultSystem(broker(), `${resource}-alarm`, {}, async (system) => {
        await underLoad(system, { sku: SKU, stock: STOCK }, async () => {
          await broker().ctl(...raise);
          try {
            // Witness: the publisher is blocked, for this resource. Publishers learn of the
            // alarm when they next publish: the load keeps them at it.
            const blocked = await waitFor(
              'order to report the broker blocking its publishes',
              async () => {
                const rabbitmq = await brokerHealth(system.url('order', '/health/ready'));
                return rabbitmq?.status === 'degraded' && rabbitmq;
              },
              { timeoutMs: 15_000 },
            );
            expect(blocked.blocked).toMatch(reason);
            await outage(3_000);
            for (const name of SERVICES) {
              expect(await system.service(name).status('/health/live')).toBe(200);
              expect(system.service(name).running).toBe(true);
            }
          } finally {
            await broker().ctl(...clear);
          }

          await waitFor(
            'order to see publishing unblocked',
            async () => (await brokerHealth(system.url('order', '/health/ready')))?.status === 'up',
            { timeoutMs: 15_000 },
          );
        });
      }),
    CASE_TIMEOUT_MS,
  );

  it(
    "reports the stop as Nest's transports do: status and events on the server and the client",
    async () => {
      const vhost = await broker().admin.createVhost('faults-transport-status');
      const url = withVhost(broker().amqpUrl, vhost);
      const app = await startProbeApp({ urls: url, service: 'probe' });
      const { client, close } = startProbeCaller(url);
      try {
        const server = app.get(AmqpServer);
        const serverSeen = recordStatus(server);
        const clientSeen = recordStatus(client);
        const disconnects: unknown[] = [];
        const errors: unknown[] = [];
        server.on('disconnect', (error) => disconnects.push(error));
        client.on('error', (error) => errors.push(error));
        await client.connect();
        await waitFor('the client to connect', () => clientSeen.at(-1) === 'connected');

        await broker().ctl('stop_app');
        // The witness: the node's application is down (its status says so) ...
        await expect(broker().ctl('list_vhosts')).rejects.toThrow(
          /requires the 'rabbit' app to be running/,
        );
        // ... and both ends said so, and keep trying.
        await waitFor('the server to report it', () => serverSeen.at(-1) === 'reconnecting');
        await waitFor('the client to report it', () => clientSeen.at(-1) === 'reconnecting');
        await waitFor('a refused attempt to reach the client', () => errors.length > 0);
        expect(disconnects.length).toBeGreaterThanOrEqual(1);

        await broker().ctl('start_app');
        await waitFor('the server to reconnect', () => serverSeen.at(-1) === 'connected', {
          timeoutMs: 60_000,
        });
        await waitFor('the client to reconnect', () => clientSeen.at(-1) === 'connected', {
          timeoutMs: 60_000,
        });
        expect(serverSeen.slice(0, 3)).toEqual(['connected', 'disconnected', 'reconnecting']);
        expect(await client.request(ProbeEcho, { text: 'back' })).toEqual({ text: 'back' });
      } finally {
        await close();
        await app.close();
        await broker().ctl('start_app'); // at once if it runs; the other cases need it
        await broker().admin.deleteVhost(vhost);
      }
    },
    CASE_TIMEOUT_MS,
  );
});

interface Health {
  details?: { rabbitmq?: BrokerHealth };
}

interface BrokerHealth {
  status: string;
  /** The broker's reason, while it blocks publishing. */
  blocked?: string;
}

async function brokerHealth(url: string): Promise<BrokerHealth | undefined> {
  const res = await http<Health>('GET', url);
  return res.body?.details?.rabbitmq;
}
